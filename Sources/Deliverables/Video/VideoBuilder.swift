import Foundation

/// Builds a video's package from approved content: the script (Markdown), the storyboard (JSON), captions (SRT and
/// WebVTT, timed from the spoken narration), a shot list (CSV) and an MP4 — each scene a title card in the
/// design's colours with its narration spoken by espeak-ng, the captions as a subtitle track, H.264 and AAC at
/// 1280×720.
public struct VideoBuilder: Sendable {
    public var background = "0x1f3a5f"
    public var foreground = "0xffffff"
    public var width = 1280
    public var height = 720

    public init() {}

    public func build(_ video: VideoContent, workspace: URL) async throws -> [DeliverableFile] {
        let folder = workspace.appendingPathComponent("video-build")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var durations: [Double] = []
        for (index, scene) in video.scenes.enumerated() {
            try Data(scene.narration.utf8).write(to: folder.appendingPathComponent("narration-\(index).txt"))
            try await ExternalTool.espeak.run(
                ["-v", "en-us", "-s", "160", "-w", "narration-\(index).wav", "-f", "narration-\(index).txt"], in: folder,
                timeout: .seconds(120))
            durations.append(try Self.wavDuration(folder.appendingPathComponent("narration-\(index).wav")))
            let card = PrintDocument.wrap(scene.onScreen.isEmpty ? video.title : scene.onScreen, width: 30).prefix(5).joined(
                separator: "\n")
            try Data(card.utf8).write(to: folder.appendingPathComponent("card-\(index).txt"))
        }
        var cues: [Cue] = []
        var start = 0.0
        for (scene, duration) in zip(video.scenes, durations) {
            cues += Cue.timed(scene.narration, start: start, duration: duration)
            start += duration
        }
        let srt = Cue.srt(cues)
        try Data(srt.utf8).write(to: folder.appendingPathComponent("captions.srt"))
        try await ExternalTool.ffmpeg.run(
            ffmpegArguments(durations: durations), in: folder, timeout: .seconds(900))
        let mp4 = try Data(contentsOf: folder.appendingPathComponent("video.mp4"))
        let name = Markup.slug(video.title, fallback: "video")
        return [
            DeliverableFile(path: "\(name).mp4", mediaType: MediaType.mp4, data: mp4),
            DeliverableFile(path: "\(name).srt", mediaType: MediaType.srt, text: srt),
            DeliverableFile(path: "\(name).vtt", mediaType: MediaType.vtt, text: Cue.vtt(cues)),
            DeliverableFile(path: "script.md", mediaType: MediaType.markdown, text: script(video, durations)),
            DeliverableFile(path: "storyboard.json", mediaType: MediaType.json, data: try storyboard(video, durations)),
            DeliverableFile(path: "shot-list.csv", mediaType: MediaType.csv, text: shotList(video)),
        ]
    }

    /// One ffmpeg run: a colour source with the scene's card drawn on it for exactly as long as its narration,
    /// every scene joined by the concat filter, the captions muxed as a `mov_text` track.
    func ffmpegArguments(durations: [Double]) -> [String] {
        let scenes = durations.count
        var arguments = ["-y", "-hide_banner", "-loglevel", "error"]
        for (index, duration) in durations.enumerated() {
            arguments += [
                "-f", "lavfi", "-t", String(format: "%.3f", duration), "-i", "color=c=\(background):s=\(width)x\(height):r=25",
                "-i", "narration-\(index).wav",
            ]
        }
        arguments += ["-i", "captions.srt"]
        var filter = ""
        var joined = ""
        for index in 0..<scenes {
            filter +=
                "[\(2 * index):v]drawtext=fontfile=\(ExternalTool.boldFont):textfile=card-\(index).txt:fontcolor=\(foreground):fontsize=54:line_spacing=16:x=(w-text_w)/2:y=(h-text_h)/2,format=yuv420p[v\(index)];"
            filter += "[\(2 * index + 1):a]aresample=44100,aformat=sample_fmts=fltp:channel_layouts=mono[a\(index)];"
            joined += "[v\(index)][a\(index)]"
        }
        filter += "\(joined)concat=n=\(scenes):v=1:a=1[v][a]"
        arguments += [
            "-filter_complex", filter, "-map", "[v]", "-map", "[a]", "-map", "\(2 * scenes):s",
            "-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "96k", "-c:s", "mov_text", "-metadata:s:s:0", "language=eng",
            "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-movflags", "+faststart", "video.mp4",
        ]
        return arguments
    }

    /// The length of a PCM WAV file in seconds, from its header's byte rate and the size of its data.
    static func wavDuration(_ url: URL) throws -> Double {
        let data = try Data(contentsOf: url)
        guard data.count > 44, data.starts(with: Data("RIFF".utf8)) else { throw DeliverableError("espeak-ng wrote no WAV file") }
        func uint32(_ offset: Int) -> UInt32 {
            data[offset..<offset + 4].enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        }
        let byteRate = uint32(28)
        guard byteRate > 0 else { throw DeliverableError("espeak-ng wrote a WAV file without a byte rate") }
        // The data chunk follows the header; its size is what remains of the file.
        var offset = 12
        while offset + 8 <= data.count {
            let id = String(decoding: data[offset..<offset + 4], as: UTF8.self)
            if id == "data" { return Double(data.count - offset - 8) / Double(byteRate) }
            offset += 8 + Int(uint32(offset + 4))
        }
        return Double(data.count - 44) / Double(byteRate)
    }

    func script(_ video: VideoContent, _ durations: [Double]) -> String {
        var text = "# \(video.title)\n\n"
        var start = 0.0
        for (scene, duration) in zip(video.scenes, durations) {
            text += "## Scene \(scene.number) (\(Self.clock(start))–\(Self.clock(start + duration)))\n\n"
            text += "**On screen:** \(scene.onScreen)\n\n**Narration:** \(scene.narration)\n\n"
            for shot in scene.shots { text += "- \(shot.camera): \(shot.description) (\(Self.seconds(shot.seconds)) s)\n" }
            text += "\n"
            start += duration
        }
        if !video.callToAction.isEmpty { text += "**Call to action:** \(video.callToAction)\n" }
        return text
    }

    func storyboard(_ video: VideoContent, _ durations: [Double]) throws -> Data {
        struct Storyboard: Encodable {
            var title: String
            var scenes: [Entry]
        }
        struct Entry: Encodable {
            var number: Int
            var start_seconds: Double
            var duration_seconds: Double
            var narration: String
            var on_screen_text: String
            var visual_description: String
            var shots: [VideoContent.Shot]
        }
        var start = 0.0
        var entries: [Entry] = []
        for (scene, duration) in zip(video.scenes, durations) {
            let rounded = (duration * 1000).rounded() / 1000
            entries.append(
                Entry(
                    number: scene.number, start_seconds: (start * 1000).rounded() / 1000, duration_seconds: rounded,
                    narration: scene.narration, on_screen_text: scene.onScreen,
                    visual_description: scene.shots.map(\.description).joined(separator: " "), shots: scene.shots))
            start += duration
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(Storyboard(title: video.title, scenes: entries))
    }

    func shotList(_ video: VideoContent) -> String {
        var rows = [["scene", "shot", "camera", "seconds", "description"]]
        for scene in video.scenes {
            for (index, shot) in scene.shots.enumerated() {
                rows.append([String(scene.number), String(index + 1), shot.camera, Self.seconds(shot.seconds), shot.description])
            }
        }
        return CSV.document(rows)
    }

    static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return String(format: "%d:%02d", whole / 60, whole % 60)
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}
