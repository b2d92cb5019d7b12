import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// One of the product's executables, started by a test as an operator would start it.
///
/// `swift test` waits for every child that holds its output pipes, and children inherit a signal mask that blocks
/// SIGTERM: each process gets its own log file, and ``kill()`` uses SIGKILL.
public final class ServiceProcess: @unchecked Sendable {
    // @unchecked: `Process` is not Sendable; it is only touched through these methods, which Foundation allows from
    // any thread.
    public let process: Process
    public let log: URL

    /// Starts `executable` (built beside the test bundle) with `arguments`, the test broker's URL and `environment`.
    public init(_ executable: String, arguments: [String], environment: [String: String] = [:], folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = try Self.binary(executable)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        merged["AIWF_AMQP_URL"] = ProcessInfo.processInfo.environment["AIWF_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/"
        process.environment = merged.merging(environment) { $1 }
        log = folder.appendingPathComponent("\(executable)-\(UUID().uuidString.prefix(6)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        // SIGTERM must reach the child: unblock it there (the test runner blocks it for its children).
        try process.run()
        self.process = process
    }

    /// The executable `swift build` put beside the test bundle.
    public static func binary(_ name: String) throws -> URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for candidate in [besideTests, root.appendingPathComponent(".build/debug/\(name)")]
        where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        throw ServiceProcessError(message: "no \(name) binary; run `swift build` first")
    }

    public var isRunning: Bool { process.isRunning }

    /// Sends `signal` to the process.
    public func send(_ signal: Int32) {
        if process.isRunning { Glibc.kill(process.processIdentifier, signal) }
    }

    /// Ends it at once.
    public func kill() {
        send(SIGKILL)
        process.waitUntilExit()
    }

    /// Waits until it ended, at most `timeout`; true when it did.
    public func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return !process.isRunning
    }

    /// What it logged so far.
    public var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Waits until the log holds `text`, at most `timeout`; whether it came.
    public func waitForLog(_ text: String, timeout: Duration = .seconds(20)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if logText.contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return logText.contains(text)
    }

    /// Polls its `/ready` until it answers 200, at most `timeout`.
    public func waitUntilReady(port: Int, timeout: Duration = .seconds(30)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, process.isRunning {
            if let (_, response) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/ready")!),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return true
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// A free TCP port on the loopback address.
    public static func freePort() -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

public struct ServiceProcessError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
