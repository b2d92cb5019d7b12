import Contracts
import Foundation

/// The approved outputs a video is built from: the script's beats (on-screen text) and the storyboard's scenes
/// (narration and shots).
public struct VideoContent: Sendable {
    public struct Shot: Codable, Sendable {
        public var description: String
        public var camera: String
        public var seconds: Double
    }

    public struct Scene: Codable, Sendable {
        public var number: Int
        public var narration: String
        public var onScreen: String
        public var shots: [Shot]
    }

    struct Beat: Decodable {
        var narration: String
        var on_screen: String
    }

    struct Script: Decodable {
        var title: String
        var beats: [Beat]
    }

    struct StoryboardScene: Decodable {
        var number: Int
        var narration: String
        var shots: [Shot]
    }

    struct Storyboard: Decodable {
        var scenes: [StoryboardScene]
    }

    public var title: String
    public var scenes: [Scene]
    public var callToAction: String

    public init(title: String, scenes: [Scene], callToAction: String = "") throws {
        self.title = title
        self.scenes = scenes.filter { !$0.narration.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        self.callToAction = callToAction
        guard !self.scenes.isEmpty else { throw DeliverableError("the storyboard has no scene with narration") }
    }

    /// The content from a video project's params and its approved `script` and `storyboard` stages.
    public init(params: [String: JSONValue], outputs: [String: JSONValue]) throws {
        guard let storyboard = outputs["storyboard"] else { throw DeliverableError("there is no approved storyboard yet") }
        let script = try outputs["script"]?.decode(Script.self, as: "the output of stage 'script'")
        let scenes = try storyboard.decode(Storyboard.self, as: "the output of stage 'storyboard'").scenes
        try self.init(
            title: script?.title ?? "Video",
            scenes: scenes.enumerated().map { index, scene in
                let beat = script.flatMap { index < $0.beats.count ? $0.beats[index] : nil }
                let narration = scene.narration.isEmpty ? beat?.narration ?? "" : scene.narration
                let onScreen = beat?.on_screen.isEmpty == false ? beat!.on_screen : scene.shots.first?.description ?? ""
                return Scene(number: scene.number, narration: narration, onScreen: onScreen, shots: scene.shots)
            }, callToAction: params["call_to_action"]?.stringValue ?? "")
    }
}

/// A caption: text shown from `start` to `end` seconds.
public struct Cue: Sendable, Equatable {
    public var start: Double
    public var end: Double
    public var text: String

    /// Cues for one scene's narration spoken from `start` for `duration` seconds: the narration cut at word
    /// boundaries into pieces of at most `limit` characters, each timed by its share of the characters.
    public static func timed(_ narration: String, start: Double, duration: Double, limit: Int = 84) -> [Cue] {
        let pieces = PrintDocument.wrap(narration.replacingOccurrences(of: "\n", with: " "), width: limit)
        let total = Double(pieces.reduce(0) { $0 + $1.count })
        guard total > 0 else { return [] }
        var cues: [Cue] = []
        var time = start
        for piece in pieces {
            let length = duration * Double(piece.count) / total
            cues.append(Cue(start: time, end: time + length, text: piece))
            time += length
        }
        cues[cues.count - 1].end = start + duration
        return cues
    }

    public static func srt(_ cues: [Cue]) -> String {
        cues.enumerated().map { index, cue in
            "\(index + 1)\n\(stamp(cue.start, separator: ",")) --> \(stamp(cue.end, separator: ","))\n\(lines(cue.text))\n"
        }.joined(separator: "\n")
    }

    public static func vtt(_ cues: [Cue]) -> String {
        "WEBVTT\n\n"
            + cues.map { cue in "\(stamp(cue.start, separator: ".")) --> \(stamp(cue.end, separator: "."))\n\(lines(cue.text))\n" }
            .joined(separator: "\n")
    }

    /// A caption in at most two lines of about 42 characters.
    static func lines(_ text: String) -> String {
        PrintDocument.wrap(text, width: 42).joined(separator: "\n")
    }

    static func stamp(_ seconds: Double, separator: String) -> String {
        let milliseconds = Int((seconds * 1000).rounded())
        return String(
            format: "%02d:%02d:%02d%@%03d", milliseconds / 3_600_000, milliseconds / 60_000 % 60, milliseconds / 1000 % 60, separator,
            milliseconds % 1000)
    }
}
