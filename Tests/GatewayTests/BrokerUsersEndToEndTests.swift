import AMQPClient
import Foundation
import ServiceTestSupport
import Testing

/// Each service on its own broker user, made by `deploy/broker-users.sh` as the compose file and the manifests make
/// them: the whole system still runs a website to done, and a service is refused what is not its to do.
@Suite("Broker users, end to end", .serialized, .timeLimit(.minutes(4)))
struct BrokerUsersEndToEndTests {
    @Test func everyServiceRunsOnItsOwnUserAndIsRefusedOthersWork() async throws {
        let system = try await TestSystem(repository: repository)
        defer { system.stop() }
        let prefix = "test-\(UUID().uuidString.prefix(6).lowercased())-"
        let urls = try await BrokerControl.makeServiceUsers(
            virtualHost: try #require(system.virtualHost), prefix: prefix, repository: repository)
        defer { BrokerControl.deleteUsers(prefix) }

        for (name, extra) in [
            ("TemplateService", ["--workflows-dir", repository.appendingPathComponent("Workflows").path]), ("StageService", []),
            ("ProviderGateway", ["--providers", repository.appendingPathComponent("providers.yaml").path]), ("ApprovalService", []),
        ] {
            let (ready, problem) = try await system.start(name, extra, environment: ["AIWF_AMQP_URL": urls[name]!])
            #expect(ready, "\(problem)")
        }
        let (base, key, _) = try await system.startGateway(environment: ["AIWF_AMQP_URL": urls["Gateway"]!])
        let api = GatewayEndToEndTests.API(base: base, authorization: "Bearer \(key)")
        let params = """
            {"company_name": "Acme Bakery", "industry": "bakery", "website_type": "business", "page_count": 2, \
            "target_audience": "families nearby", "description": "A neighbourhood bakery that sells bread and cakes every day."}
            """
        let created = try await api.call(
            .POST, "/api/v1/projects", body: #"{"template": "website", "name": "Acme", "start": true, "params": \#(params)}"#)
        let id = try #require(created.body["id"]?.stringValue, "\(created.body)")
        let detail = try await GatewayEndToEndTests.approveUntilDone(api, id)
        #expect(detail["project"]?["state"] == "done", "\(detail["project"] ?? .null)")

        // What each may not do, tried as it.
        func refused(_ service: String, _ what: String, _ attempt: (AMQPConnection) async throws -> Void) async throws {
            let connection = AMQPConnection(
                options: AMQPConnectionOptions(url: try AMQPURL(urls[service]!), name: "test.users.\(service)"), logger: quiet)
            defer { Task { await connection.close() } }
            let error = await #expect(throws: AMQPError.self, "\(service) may not \(what)") { try await attempt(connection) }
            #expect(error?.message.contains("ACCESS_REFUSED") == true, "\(service), \(what): \(error?.message ?? "")")
        }
        func send(_ exchange: String, _ key: String) -> @Sendable (AMQPConnection) async throws -> Void {
            { try await $0.publish(OutgoingMessage(exchange: exchange, routingKey: key, body: Data("{}".utf8))) }
        }
        try await refused("StageService", "create projects", send(Exchange.commands, "stage.create-project.v1"))
        try await refused("ProviderGateway", "publish approval events", send(Exchange.events, "approval.decided.v1"))
        try await refused("ProviderGateway", "decide approvals", send(Exchange.commands, "approval.decide.v1"))
        try await refused("ApprovalService", "publish generation results", send(Exchange.events, "provider.content-generated.v1"))
        try await refused("Gateway", "ask for approvals itself", send(Exchange.commands, "approval.request.v1"))
        try await refused("ProviderGateway", "consume StageService's commands") { connection in
            let (consumer, _) = try await connection.takeOne(from: "stage.commands")
            await consumer.close()
        }
        try await refused("Gateway", "delete StageService's queue") { try await $0.delete(queue: "stage.commands") }
        // And what is theirs, allowed.
        let gateway = AMQPConnection(
            options: AMQPConnectionOptions(url: try AMQPURL(urls["Gateway"]!), name: "test.users.ok"), logger: quiet)
        try await gateway.publish(OutgoingMessage(exchange: Exchange.commands, routingKey: "stage.list-projects.v1", body: Data("{}".utf8)))
        #expect(try await gateway.messageCount(queue: "stage.commands.dead") == 0, "the admin pages count every dead-letter queue")
        await gateway.close()
    }
}
