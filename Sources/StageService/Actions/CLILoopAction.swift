import Contracts
import Foundation
import ServiceKit
import Subprocess
import SystemPackage
import WorkflowKit

/// `cli_loop`: runs an operator-allow-listed command in the project's workspace, again and again, until it prints the
/// stage's completion marker, exits non-zero, or reaches `max_iterations`.
///
/// The command is an argv (the stage's `command` split at spaces; never given to a shell), and its first word must be
/// one of the executables the operator allowed (`AIWF_CLI_ALLOW`). Each iteration gets the rendered prompt on stdin,
/// and in `.aiwf/` of the workspace the previous iteration's output (`previous-output.txt`) and the reviewer's
/// feedback (`feedback.txt`) when there are any. The environment holds nothing of StageService's own (no keys): a
/// fixed `PATH`, `HOME` set to the workspace and the `AIWF_*` variables below. An iteration that runs past the
/// stage's `timeout` is killed with its whole process group. When bubblewrap is present the command runs inside it
/// with no network, a read-only system and the workspace as the only writable path. Every iteration's output is kept
/// as an artifact.
struct CLILoopAction: Sendable {
    /// Absolute paths of the executables a stage may run; none allows nothing.
    let allowed: [String]
    /// How commands are confined.
    let sandbox: Sandbox
    var defaultIterations = 5
    var defaultTimeout = 600
    var defaultMarker = "AIWF_DONE"
    /// Bytes kept of an iteration's standard output and of its standard error.
    var outputLimit = 1 << 20

    enum Sandbox: String, Sendable, CaseIterable {
        /// bubblewrap when `bwrap` is installed, else none.
        case auto
        case bwrap
        case none

        /// The bubblewrap executable to use, if any; `bwrap` asked for but missing is a configuration error.
        func resolve() throws -> String? {
            let found = ["/usr/bin/bwrap", "/usr/local/bin/bwrap"].first { FileManager.default.isExecutableFile(atPath: $0) }
            switch self {
            case .none: return nil
            case .auto: return found
            case .bwrap:
                guard let found else {
                    throw ConfigurationError("--cli-sandbox bwrap: bubblewrap is not installed (apt-get install bubblewrap)")
                }
                return found
            }
        }
    }

    /// What one loop is given besides the action input.
    struct Inputs: Sendable {
        var prompt: String
        /// The output of the stage's previous round (before a request for changes), if any.
        var previousOutput: String? = nil
        var feedback: String? = nil
    }

    func run(_ input: ActionInput, _ inputs: Inputs) async throws -> ActionOutput {
        guard let cli = input.stage.cli else { throw ActionError("stage '\(input.stage.code)' has no cli command") }
        let argv = cli.command.split(whereSeparator: \.isWhitespace).map(String.init)
        guard let executable = argv.first, allowed.contains(executable) else {
            throw ActionError(
                "the command '\(argv.first ?? "")' of stage '\(input.stage.code)' is not allow-listed here; an operator allows an executable by its absolute path with --cli-allow or AIWF_CLI_ALLOW"
            )
        }
        let bwrap = try sandbox.resolve()
        let iterations = cli.maxIterations ?? defaultIterations
        let timeout = cli.timeout ?? defaultTimeout
        let marker = cli.completionMarker ?? defaultMarker
        let control = input.workspace.appendingPathComponent(".aiwf")
        try FileManager.default.createDirectory(at: control, withIntermediateDirectories: true)
        try write(inputs.feedback, to: control.appendingPathComponent("feedback.txt"))
        var previous = inputs.previousOutput
        var files: [ArtifactFile] = []
        for iteration in 1...iterations {
            try write(previous, to: control.appendingPathComponent("previous-output.txt"))
            let environment: [String: String] = [
                "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": input.workspace.path, "LANG": "C.UTF-8",
                "AIWF_ITERATION": String(iteration), "AIWF_MAX_ITERATIONS": String(iterations), "AIWF_COMPLETION_MARKER": marker,
                "AIWF_PROJECT_ID": input.projectID, "AIWF_STAGE": input.stage.code, "AIWF_WORKSPACE": input.workspace.path,
            ]
            let result = try await Self.runOnce(
                argv: bwrap.map { Self.confined(argv, in: input.workspace, bwrap: $0) } ?? argv, environment: environment,
                directory: input.workspace, stdin: inputs.prompt, timeout: timeout, limit: outputLimit,
                scratch: control.appendingPathComponent("iteration-\(iteration)"))
            files.append(
                ArtifactFile(
                    name: "\(input.stage.code)-iteration-\(iteration).txt", mediaType: "text/plain", data: Data(result.output.utf8)))
            if !result.errors.isEmpty {
                files.append(
                    ArtifactFile(
                        name: "\(input.stage.code)-iteration-\(iteration).stderr.txt", mediaType: "text/plain",
                        data: Data(result.errors.utf8)))
            }
            switch result.ending {
            case .timedOut:
                throw ActionError(
                    "iteration \(iteration) of '\(executable)' ran past its \(timeout) s timeout and was stopped", artifacts: files)
            case .exited(let code) where code != 0:
                throw ActionError(
                    "'\(executable)' exited with status \(code) in iteration \(iteration)\(Self.tail(result.errors))", artifacts: files)
            case .signalled(let signal):
                throw ActionError(
                    "'\(executable)' was ended by signal \(signal) in iteration \(iteration)\(Self.tail(result.errors))", artifacts: files)
            case .exited:
                if result.output.contains(marker) {
                    return ActionOutput(output: Self.output(result.output, iterations: iteration, finished: true), artifacts: files)
                }
            }
            previous = result.output
        }
        return ActionOutput(output: Self.output(previous ?? "", iterations: iterations, finished: false), artifacts: files)
    }

    private static func output(_ text: String, iterations: Int, finished: Bool) -> JSONValue {
        ["output": .string(text), "iterations": .number(Double(iterations)), "finished": .bool(finished)]
    }

    private static func tail(_ errors: String) -> String {
        let trimmed = errors.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? "" : ": " + String(trimmed.suffix(500))
    }

    private func write(_ text: String?, to url: URL) throws {
        if let text {
            try Data(text.utf8).write(to: url, options: .atomic)
        } else if FileManager.default.fileExists(atPath: url.path) {
            try FileManager.default.removeItem(at: url)
        }
    }

    /// `argv` inside bubblewrap: no network or other namespaces shared, the system read-only, a private `/tmp`, and
    /// the workspace the only place it can write. The executable's own folder is mounted read-only when it lies
    /// outside `/usr`.
    static func confined(_ argv: [String], in workspace: URL, bwrap: String) -> [String] {
        var mounts = [
            "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--symlink", "usr/sbin", "/sbin", "--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
        ]
        let folder = URL(fileURLWithPath: argv[0]).deletingLastPathComponent().path
        if !folder.hasPrefix("/usr/") && folder != "/usr" && !["/bin", "/sbin"].contains(folder) {
            mounts += ["--ro-bind", folder, folder]
        }
        return [bwrap, "--die-with-parent", "--unshare-all", "--new-session"] + mounts
            + ["--bind", workspace.path, workspace.path, "--chdir", workspace.path, "--"] + argv
    }

    /// How an iteration ended.
    enum Ending: Equatable {
        case exited(Int32)
        case signalled(Int32)
        case timedOut
    }

    struct Iteration {
        var ending: Ending
        var output: String
        var errors: String
    }

    /// Runs `argv` once in a session of its own, its input and output files under `scratch`; past `timeout` seconds
    /// the whole process group is killed.
    static func runOnce(
        argv: [String], environment: [String: String], directory: URL, stdin: String, timeout: Int, limit: Int, scratch: URL
    ) async throws -> Iteration {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        // Every stream is a file, none a pipe: a command that never reads its stdin, or leaves a child holding its
        // stdout, neither blocks nor breaks the loop.
        let inURL = scratch.appendingPathComponent("stdin")
        try Data(stdin.utf8).write(to: inURL)
        let input = try FileDescriptor.open(FilePath(inURL.path), .readOnly)
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        let out = try FileDescriptor.open(
            FilePath(outURL.path), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite])
        let err = try FileDescriptor.open(
            FilePath(errURL.path), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite])
        let environmentKeys = Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(rawValue: $0.key)!, $0.value) })
        let ending: Ending = try await withThrowingTaskGroup(of: Ending?.self) { group in
            group.addTask {
                var options = PlatformOptions()
                options.createSession = true
                options.teardownSequence = [.send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .seconds(2))]
                let result = try await Subprocess.run(
                    .path(FilePath(argv[0])), arguments: Arguments(Array(argv.dropFirst())), environment: .custom(environmentKeys),
                    workingDirectory: FilePath(directory.path), platformOptions: options,
                    input: .fileDescriptor(input, closeAfterSpawningProcess: true),
                    output: .fileDescriptor(out, closeAfterSpawningProcess: true),
                    error: .fileDescriptor(err, closeAfterSpawningProcess: true))
                switch result.terminationStatus {
                case .exited(let code): return .exited(code)
                case .signaled(let signal): return .signalled(signal)
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            return first ?? .timedOut
        }
        return Iteration(ending: ending, output: read(outURL, limit: limit), errors: read(errURL, limit: limit))
    }

    private static func read(_ url: URL, limit: Int) -> String {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return "" }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: limit)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
