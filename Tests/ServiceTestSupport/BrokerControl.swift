import Foundation
import Testing

/// Drives the broker the way an operator would.
public enum BrokerControl {
    /// Closes every connection whose client-given name starts with `prefix`, as `rabbitmqctl close_all_connections`
    /// would, but only this test's, so tests running beside it are not disturbed.
    public static func closeConnections(named prefix: String) async throws {
        try await offThePool { try closeConnectionsNow(named: prefix) }
    }

    private static func closeConnectionsNow(named prefix: String) throws {
        let node = try node()
        let listing = try run(["-n", node, "list_connections", "-q", "--no-table-headers", "pid", "client_properties"]).output
        let pids = listing.split(separator: "\n").filter { $0.contains("\"\(prefix)") }.compactMap { line in
            line.split(separator: "\t").first.map(String.init)
        }
        #expect(!pids.isEmpty, "no broker connection is named \(prefix)")
        for pid in pids {
            _ = try run(["-n", node, "close_connection", pid, "closed by test"])
        }
    }

    /// A virtual host of the test's own, so services started for it share no queue with tests running beside it;
    /// returns its URL. Remove it with ``deleteVirtualHost(_:)``.
    public static func makeVirtualHost(_ name: String) async throws -> String {
        try await offThePool { try makeVirtualHostNow(name) }
    }

    private static func makeVirtualHostNow(_ name: String) throws -> String {
        let node = try node()
        _ = try run(["-n", node, "add_vhost", name])
        _ = try run(["-n", node, "set_permissions", "-p", name, "guest", ".*", ".*", ".*"])
        let base = ProcessInfo.processInfo.environment["AIWF_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/"
        return (base.hasSuffix("/") ? base : base + "/") + name
    }

    /// Deletes the virtual host on a thread of its own, without waiting (it is called from `defer`).
    public static func deleteVirtualHost(_ name: String) {
        Thread.detachNewThread {
            guard let node = try? node() else { return }
            _ = try? run(["-n", node, "delete_vhost", name])
        }
    }

    /// The five services' own broker users on `virtualHost`, made by `deploy/broker-users.sh` (through the management
    /// API) with names starting `prefix`: each service's URL by its name. Remove them with ``deleteUsers(_:)``.
    public static func makeServiceUsers(virtualHost: String, prefix: String, repository: URL) async throws -> [String: String] {
        let services = [
            "TemplateService": "templates", "StageService": "stages", "ProviderGateway": "providers", "ApprovalService": "approvals",
            "Gateway": "gateway",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["AIWF_BROKER_API"] = "http://127.0.0.1:15672"
        environment["AIWF_BROKER_VHOST"] = virtualHost
        environment["AIWF_BROKER_USER_PREFIX"] = prefix
        for user in services.values { environment["AIWF_BROKER_PASSWORD_\(user.uppercased())"] = "pw-\(user)" }
        let script = repository.appendingPathComponent("deploy/broker-users.sh").path
        let (output, status) = try await offThePool { [environment] in try runProgram("/bin/bash", [script], environment: environment) }
        guard status == 0 else { throw BrokerControlError(message: "deploy/broker-users.sh failed: \(output)") }
        return services.mapValues { "amqp://\(prefix)\($0):pw-\($0)@127.0.0.1:5672/\(virtualHost)" }
    }

    /// Deletes the users `makeServiceUsers` made, without waiting.
    public static func deleteUsers(_ prefix: String) {
        Thread.detachNewThread {
            guard let node = try? node() else { return }
            for user in ["templates", "stages", "providers", "approvals", "gateway"] {
                _ = try? run(["-n", node, "delete_user", prefix + user])
            }
        }
    }

    /// rabbitmqctl starts an Erlang VM and takes a second or more: run on one of the two cooperative threads, it
    /// would stall every other test meanwhile.
    private static func offThePool<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Swift.Result { try body() }) }
        }
    }

    /// The node the tests' broker runs as: `AIWF_BROKER_NODE`, the project's own node, or the system's default one.
    private static func node() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let hostname = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        let candidates = [environment["AIWF_BROKER_NODE"], "aiwf@localhost", "rabbit@\(hostname)"].compactMap { $0 }
        for candidate in candidates where try run(["-n", candidate, "ping"]).status == 0 {
            return candidate
        }
        throw BrokerControlError(message: "no RabbitMQ node answers rabbitmqctl; tried \(candidates)")
    }

    private static func run(_ arguments: [String]) throws -> (output: String, status: Int32) {
        try runProgram("/usr/sbin/rabbitmqctl", arguments, environment: nil, keepErrors: false)
    }

    private static func runProgram(_ path: String, _ arguments: [String], environment: [String: String]?, keepErrors: Bool = true)
        throws -> (output: String, status: Int32)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = keepErrors ? output : FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: data, as: UTF8.self), process.terminationStatus)
    }
}

public struct BrokerControlError: Error {
    public let message: String
}
