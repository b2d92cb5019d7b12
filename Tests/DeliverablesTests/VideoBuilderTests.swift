import Contracts
import Deliverables
import Foundation
import Testing

@Suite struct VideoBuilderTests {
    struct Probe: Decodable {
        struct Stream: Decodable {
            var codec_type: String
            var codec_name: String
            var width: Int?
            var height: Int?
        }
        struct Format: Decodable { var duration: String }
        var streams: [Stream]
        var format: Format
    }

    /// The seconds of each cue, read back from an SRT or WebVTT file.
    static func cueTimes(_ text: String) -> [(Double, Double)] {
        text.matches(of: /(\d\d):(\d\d):(\d\d)[,.](\d\d\d) --> (\d\d):(\d\d):(\d\d)[,.](\d\d\d)/).map { match in
            func seconds(_ h: Substring, _ m: Substring, _ s: Substring, _ ms: Substring) -> Double {
                Double(h)! * 3600 + Double(m)! * 60 + Double(s)! + Double(ms)! / 1000
            }
            let o = match.output
            return (seconds(o.1, o.2, o.3, o.4), seconds(o.5, o.6, o.7, o.8))
        }
    }

    @Test func theMP4HasVideoAudioAndSubtitlesAndLastsAsLongAsItsNarration() async throws {
        let content = try VideoContent(params: ["call_to_action": "Bake"], outputs: Fixtures.videoOutputs())
        let folder = try Fixtures.folder("video")
        let files = try await VideoBuilder().build(content, workspace: folder)
        #expect(
            files.map(\.path) == [
                "why-bake-sourdough.mp4", "why-bake-sourdough.srt", "why-bake-sourdough.vtt", "script.md", "storyboard.json",
                "shot-list.csv",
            ])
        try Fixtures.write(files, to: folder)
        let probe = try await Fixtures.run(
            "ffprobe",
            [
                "-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height:format=duration", "-of", "json",
                folder.appendingPathComponent("why-bake-sourdough.mp4").path,
            ])
        #expect(probe.status == 0, "\(probe.errors)")
        let result = try JSONDecoder().decode(Probe.self, from: Data(probe.output.utf8))
        #expect(result.streams.map(\.codec_type).sorted() == ["audio", "subtitle", "video"])
        let video = try #require(result.streams.first { $0.codec_type == "video" })
        #expect(video.codec_name == "h264" && video.width == 1280 && video.height == 720)
        #expect(result.streams.first { $0.codec_type == "audio" }?.codec_name == "aac")
        #expect(result.streams.first { $0.codec_type == "subtitle" }?.codec_name == "mov_text")
        let storyboard = try JSONValue.parse(files[4].data)
        let narration = (storyboard["scenes"]?.arrayValue ?? []).compactMap { $0["duration_seconds"]?.numberValue }.reduce(0, +)
        #expect(narration > 5, "espeak-ng spoke the narration")
        #expect(abs(Double(result.format.duration)! - narration) <= 0.5, "\(result.format.duration) s against \(narration) s of narration")
        #expect(storyboard["scenes"]?.arrayValue?.first?["on_screen_text"] == "Real bread, at home")

        for caption in [files[1], files[2]] {
            let path = folder.appendingPathComponent(caption.path).path
            let parsed = try await Fixtures.run("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", path])
            #expect(
                parsed.status == 0 && ["subrip", "webvtt"].contains(parsed.output.trimmingCharacters(in: .whitespacesAndNewlines)),
                "\(parsed)")
            let times = Self.cueTimes(caption.text)
            #expect(times.count >= 3)
            for (index, time) in times.enumerated() {
                #expect(time.0 < time.1)
                if index > 0 { #expect(times[index - 1].1 <= time.0, "cues never overlap") }
            }
            #expect(abs(times.last!.1 - narration) < 0.01)
        }
        #expect(files[2].text.hasPrefix("WEBVTT\n\n"))
        #expect(files[5].text.contains("2,1,overhead,3,\"Hands, dough, \"\"bowl\"\"\"\r\n"))
        #expect(files[3].text.contains("**On screen:** Three ingredients & time"))
    }

    @Test func captionsSplitLongNarrationWithoutOverlap() {
        let cues = Cue.timed(String(repeating: "word ", count: 60), start: 10, duration: 12)
        #expect(cues.allSatisfy { $0.text.count <= 84 })
        #expect(cues.first?.start == 10 && cues.last?.end == 22)
        for (a, b) in zip(cues, cues.dropFirst()) { #expect(a.end <= b.start + 1e-9) }
    }
}
