import Foundation
import Glibc

/// What a finished command printed.
public struct ProcessOutput: Sendable {
    public let status: Int32
    public let output: String
    public let errors: String
}

/// A command that could not be started.
public struct RunProcessError: Error, CustomStringConvertible {
    public let description: String
}

/// Runs a command to its end on a thread of its own: waiting for a process on one of the two cooperative threads
/// of this machine would stall every other test for as long as the command runs.
///
/// Started with `posix_spawn` and waited for with `waitpid`, not with Foundation's `Process`: its wait hung for good
/// here once the command (`scripts/cluster.sh stop-node`) had exited, leaving it a zombie nobody reaped.
public func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) async throws -> ProcessOutput {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try spawnAndWait(executable.path, arguments, environment: environment) })
        }
    }
}

private func spawnAndWait(_ path: String, _ arguments: [String], environment: [String: String]?) throws -> ProcessOutput {
    // Standard error goes to a file, so the one pipe read here cannot fill up beside it.
    let errorsPath = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString).err").path
    defer { unlink(errorsPath) }
    var pipeEnds: [Int32] = [0, 0]
    guard pipe(&pipeEnds) == 0 else { throw RunProcessError(description: "pipe: \(String(cString: strerror(errno)))") }
    let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
    posix_spawn_file_actions_addopen(&actions, 2, errorsPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addclose(&actions, readEnd)
    posix_spawn_file_actions_addclose(&actions, writeEnd)

    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let environmentLines = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
    let envp = environmentLines.map { strdup($0) } + [nil]
    defer { envp.forEach { free($0) } }

    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
    close(writeEnd)
    guard spawned == 0 else {
        close(readEnd)
        throw RunProcessError(description: "cannot start \(path): \(String(cString: strerror(spawned)))")
    }
    var output = Data()
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = read(readEnd, &buffer, buffer.count)
        if count > 0 {
            output.append(contentsOf: buffer[0..<count])
        } else if count == 0 || errno != EINTR {
            break
        }
    }
    close(readEnd)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1, errno == EINTR {}
    // WIFEXITED / WEXITSTATUS, which Swift does not import; a signal is reported as 128 + its number, as shells do.
    let exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + status & 0x7f
    let errors = (try? Data(contentsOf: URL(fileURLWithPath: errorsPath))) ?? Data()
    return ProcessOutput(
        status: exitStatus, output: String(decoding: output, as: UTF8.self), errors: String(decoding: errors, as: UTF8.self))
}
