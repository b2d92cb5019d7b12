import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// aiwf's services as separate processes on a virtual host of their own, each with its own data folder and HTTP
/// port; stopped (killed) and cleaned up by `stop()`.
public final class TestSystem: @unchecked Sendable {
    public let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aiwf-e2e-\(UUID().uuidString.prefix(8))")
    /// The virtual host made for this system on the test broker; `nil` on a broker given by URL.
    public let virtualHost: String?
    /// The broker URL (a comma-separated list for a cluster) every service is started with.
    public let url: String
    public private(set) var services: [String: ServiceProcess] = [:]
    public private(set) var ports: [String: Int] = [:]
    /// The repository, for the workflows and providers.yaml.
    public let repository: URL

    public init(repository: URL) async throws {
        self.repository = repository
        let virtualHost = "aiwf-e2e-\(UUID().uuidString.prefix(8))"
        self.virtualHost = virtualHost
        url = try await BrokerControl.makeVirtualHost(virtualHost)
    }

    /// A system on a broker (or a cluster's URL list) of its own, which the caller cleans up.
    public init(repository: URL, brokerURL: String) {
        self.repository = repository
        virtualHost = nil
        url = brokerURL
    }

    /// Starts `name` and waits until it is ready; false (with its log) when it is not. A second replica of a
    /// service needs an `instance` name of its own (its key in ``services`` and ``ports``, and its data folder).
    @discardableResult
    public func start(
        _ name: String, _ extra: [String] = [], environment: [String: String] = [:], instance: String? = nil
    ) async throws -> (Bool, String) {
        let key = instance ?? name
        let port = ServiceProcess.freePort()
        let service = try ServiceProcess(
            name, arguments: ["--http-port", "\(port)", "--data-dir", folder.appendingPathComponent(key).path] + extra,
            environment: ["AIWF_AMQP_URL": url].merging(environment) { $1 }, folder: folder)
        services[key] = service
        ports[key] = port
        let ready = await service.waitUntilReady(port: port)
        return (ready, ready ? "" : "\(name) not ready: \(service.logText.suffix(800))")
    }

    /// The four services the engine needs.
    public func startEngine() async throws -> [String] {
        var problems: [String] = []
        for (name, extra) in [
            ("TemplateService", ["--workflows-dir", repository.appendingPathComponent("Workflows").path]), ("StageService", []),
            ("ProviderGateway", ["--providers", repository.appendingPathComponent("providers.yaml").path]), ("ApprovalService", []),
        ] {
            let (ready, problem) = try await start(name, extra)
            if !ready { problems.append(problem) }
        }
        return problems
    }

    /// The Gateway with a first admin, and an API key of theirs: its base URL, the key and the admin's user id.
    public func startGateway(_ extra: [String] = [], environment: [String: String] = [:]) async throws -> (
        base: String, key: String, userID: String
    ) {
        let password = "a long admin password"
        let (ready, problem) = try await start(
            "Gateway", extra,
            environment: ["AIWF_ADMIN_EMAIL": "admin@example.com", "AIWF_ADMIN_PASSWORD": password].merging(environment) { $1 })
        guard ready else { throw TestSystemError(description: problem) }
        let base = "http://127.0.0.1:\(ports["Gateway"] ?? 0)"
        var request = URLRequest(url: URL(string: base + "/api/v1/keys")!)
        request.httpMethod = "POST"
        request.setValue("Basic " + Data("admin@example.com:\(password)".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"{"name": "tests"}"#.utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        let made = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        guard let key = made?["key"] as? String else {
            throw TestSystemError(description: "no key: \(String(decoding: data, as: UTF8.self))")
        }
        var me = URLRequest(url: URL(string: base + "/api/v1/me")!)
        me.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        let (meData, _) = try await URLSession.shared.data(for: me)
        let userID = (try JSONSerialization.jsonObject(with: meData) as? [String: Any])?["id"] as? String ?? ""
        return (base, key, userID)
    }

    public func kill(_ name: String) {
        services[name]?.kill()
    }

    public func stop() {
        services.values.forEach { $0.kill() }
        if let virtualHost { BrokerControl.deleteVirtualHost(virtualHost) }
        try? FileManager.default.removeItem(at: folder)
    }
}

public struct TestSystemError: Error, CustomStringConvertible {
    public let description: String
}
