import Foundation
import Subprocess
import SystemPackage

/// A program from a Debian package that a builder calls: found on the `PATH`, run as an argv (never through a
/// shell) in a folder of the builder's, with a time limit after which it is killed with its process group.
public struct ExternalTool: Sendable {
    public let name: String
    /// The Debian package that installs it, named in the error when it is missing.
    public let package: String

    public init(_ name: String, package: String) {
        self.name = name
        self.package = package
    }

    public static let weasyprint = ExternalTool("weasyprint", package: "weasyprint")
    public static let ffmpeg = ExternalTool("ffmpeg", package: "ffmpeg")
    public static let ffprobe = ExternalTool("ffprobe", package: "ffmpeg")
    public static let espeak = ExternalTool("espeak-ng", package: "espeak-ng")

    /// What the built-in workflows' deliverables need at run time.
    public static let required: [ExternalTool] = [weasyprint, ffmpeg, ffprobe, espeak]

    /// The font the title cards and print copies use.
    public static let font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    public static let boldFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

    /// The missing programs and fonts, each as "what (install: package)"; empty when everything is there.
    public static func missing(_ tools: [ExternalTool] = required) -> [String] {
        var missing = tools.filter { $0.location == nil }.map { "\($0.name) (install the Debian package \($0.package))" }
        for font in [font, boldFont] where !FileManager.default.fileExists(atPath: font) {
            missing.append("\(font) (install the Debian package fonts-dejavu-core)")
        }
        return missing
    }

    /// Where the program is on the `PATH`, if it is.
    public var location: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs the program with `arguments` in `directory`; a non-zero exit, a signal or the time limit is an error
    /// carrying the end of what the program wrote to stderr. Returns its stdout.
    @discardableResult
    public func run(_ arguments: [String], in directory: URL, timeout: Duration = .seconds(300)) async throws -> String {
        guard let location else { throw DeliverableError("\(name) is not installed (install the Debian package \(package))") }
        let outURL = directory.appendingPathComponent(".\(name).stdout")
        let errURL = directory.appendingPathComponent(".\(name).stderr")
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let out = try FileDescriptor.open(
            FilePath(outURL.path), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite])
        let err = try FileDescriptor.open(
            FilePath(errURL.path), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite])
        let status: TerminationStatus? = try await withThrowingTaskGroup(of: TerminationStatus?.self) { group in
            group.addTask {
                var options = PlatformOptions()
                options.createSession = true
                options.teardownSequence = [.send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .seconds(2))]
                return try await Subprocess.run(
                    .path(FilePath(location)), arguments: Arguments(arguments), workingDirectory: FilePath(directory.path),
                    platformOptions: options, input: .none,
                    output: .fileDescriptor(out, closeAfterSpawningProcess: true),
                    error: .fileDescriptor(err, closeAfterSpawningProcess: true)
                ).terminationStatus
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
        let errors = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        let tail = errors.split(separator: "\n").suffix(5).joined(separator: "\n")
        switch status {
        case .exited(0): return (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        case .exited(let code): throw DeliverableError("\(name) failed with exit status \(code): \(tail)")
        case .signaled(let signal): throw DeliverableError("\(name) was killed by signal \(signal): \(tail)")
        case nil: throw DeliverableError("\(name) did not finish within \(timeout) and was stopped")
        }
    }
}
