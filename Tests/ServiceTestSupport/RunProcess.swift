import Foundation

/// What a finished command printed.
public struct ProcessOutput: Sendable {
    public let status: Int32
    public let output: String
    public let errors: String
}

/// Runs a command to its end on a thread of its own: waiting for a process on one of the two cooperative threads
/// of this machine would stall every other test for as long as the command runs.
public func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) async throws -> ProcessOutput {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            do {
                let process = Process()
                process.executableURL = executable
                process.arguments = arguments
                if let environment { process.environment = environment }
                // Standard error goes to a file, so the one pipe read here cannot fill up beside it.
                let errorsFile = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString).err")
                _ = FileManager.default.createFile(atPath: errorsFile.path, contents: nil)
                defer { try? FileManager.default.removeItem(at: errorsFile) }
                let output = Pipe()
                process.standardOutput = output
                process.standardError = try FileHandle(forWritingTo: errorsFile)
                try process.run()
                let outputData = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                let errorData = (try? Data(contentsOf: errorsFile)) ?? Data()
                continuation.resume(
                    returning: ProcessOutput(
                        status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                        errors: String(decoding: errorData, as: UTF8.self)))
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}
