import AMQPClient
import Contracts
import Foundation
import Logging
import ServiceTestSupport
import Testing

@testable import Messaging
@testable import ProviderGateway

/// The real ProviderGateway process, sent what an outside AMQP client could send to its lane: after every hostile
/// envelope it is alive, the message is answered with a typed failure or dead-lettered, and ordinary work goes on.
@Suite("Hostile messages against a running ProviderGateway", .timeLimit(.minutes(2)))
struct HostileMessageSuiteTests {
    @Test func everyHostileEnvelopeIsAnsweredOrDeadLetteredAndTheGatewayKeepsServing() async throws {
        let provider = "hostile\(UUID().uuidString.prefix(6).lowercased())"
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(provider)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let yaml = """
            default_provider: local
            providers:
              local:
                kind: local
                models: {local-writer: {input_per_million: 0, output_per_million: 0}}
              \(provider):
                kind: local
                models: {w: {input_per_million: 0, output_per_million: 0, max_output_tokens: 4096}}
                limits: {max_concurrency: 4}
            """
        let providersFile = folder.appendingPathComponent("providers.yaml")
        try yaml.write(to: providersFile, atomically: true, encoding: .utf8)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let url = try AMQPURL(ProcessInfo.processInfo.environment["AIWF_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/")
        let client = AMQPBus(url: url, serviceName: "test.hostile-gateway", logger: logger)
        let lane = ProviderGateway.laneQueue(provider)
        let results = "test.hostile.results.\(provider)"
        try await client.declare(
            Topology.standardExchanges + .workQueue(lane, bindings: [(Exchange.commands, GenerateContent.routingKey(provider: provider))])
                + Topology(
                    queues: [QueueSpec(name: results, kind: .classic)],
                    bindings: [BindingSpec(queue: results, exchange: Exchange.events, routingKey: "provider.#")]))

        let port = ServiceProcess.freePort()
        let gateway = try ServiceProcess(
            "ProviderGateway",
            arguments: ["--http-port", "\(port)", "--data-dir", folder.path, "--providers", providersFile.path, "--log-level", "warning"],
            folder: folder)
        defer { gateway.kill() }
        #expect(await gateway.waitUntilReady(port: port), "not ready: \(gateway.logText.suffix(600))")

        func envelope(_ payload: String, type: String = GenerateContent.type) -> Data {
            Data(
                #"{"id":"\#(UUID().uuidString)","type":"\#(type)","occurredAt":"2026-12-01T00:00:00Z","correlationID":"hostile","payload":\#(payload)}"#
                    .utf8)
        }
        func request(_ id: String, _ fields: String = "") -> Data {
            envelope(#"{"requestID":"\#(id)","provider":"\#(provider)","user":"Hi"\#(fields.isEmpty ? "" : ",")\#(fields)}"#)
        }
        // Each answered one is named by its request id; the others must land in the dead-letter queue.
        let answered: [(String, Data)] = [
            ("max-int", request("max-int", #""maxTokens":\#(Int.max)"#)),
            ("negative", request("negative", #""maxTokens":-5"#)),
            ("two-billion", request("two-billion", #""maxTokens":2000000000"#)),
            ("hot", request("hot", #""temperature":1e308"#)),
            ("long-stream", request("long-stream", #""streamTo":"\#(String(repeating: "s", count: 300))""#)),
            ("missing-stream", request("missing-stream", #""streamTo":"test.nobody-has-this-queue""#)),
            ("past", request("past", #""deadline":"1970-01-01T00:00:00Z""#)),
            ("wrong-type", request("wrong-type", #""maxTokens":"lots""#)),
            ("unknown-model", request("unknown-model", #""model":"gpt-99""#)),
            // Another type on the lane, but its request id can be read: its sender is told, not left waiting.
            ("other-type", envelope(#"{"requestID":"other-type"}"#, type: "provider.something-else.v1")),
        ]
        let deadLettered: [Data] = [
            Data("not json at all".utf8), Data(#"{"id":"x"}"#.utf8), envelope(#"{"user":42}"#), Data(repeating: 0xFF, count: 64),
        ]
        let ordinary = (0..<3).map { ("ordinary-\($0)", request("ordinary-\($0)")) }
        for body in answered.map(\.1) + deadLettered + ordinary.map(\.1) {
            try await client.publish(OutgoingMessage(exchange: "", routingKey: lane, body: body))
        }

        var answers: [String: String] = [:]
        let subscription = try await client.consumer.consume(queue: results, prefetch: 100)
        let watchdog = Task {
            try await Task.sleep(for: .seconds(30))
            await subscription.close()
        }
        defer { watchdog.cancel() }
        for try await delivery in subscription.deliveries {
            client.consumer.ack(delivery)
            let message = try IncomingMessage(body: delivery.body, queue: results, routingKey: "", redelivered: false, replyTo: nil)
            if let failed = try? message.decode(GenerationFailed.self).payload {
                answers[failed.requestID] = failed.kind
            } else if let generated = try? message.decode(ContentGenerated.self).payload {
                answers[generated.requestID] = "generated"
            }
            if answers.count == answered.count + ordinary.count { break }
        }
        await subscription.close()
        for (id, _) in answered { #expect(answers[id] == "bad_request", "\(id): \(answers[id] ?? "no answer")") }
        for (id, _) in ordinary { #expect(answers[id] == "generated", "\(id): \(answers[id] ?? "no answer")") }
        let dead = try await eventually { try await client.messageCount(queue: "\(lane).dead") == deadLettered.count }
        let deadCount = try await client.messageCount(queue: "\(lane).dead")
        #expect(dead, "dead-lettered: \(deadCount), answers: \(answers)")
        #expect(gateway.isRunning, "the gateway died: \(gateway.logText.suffix(800))")

        gateway.send(SIGTERM)
        #expect(await gateway.waitForExit(timeout: .seconds(15)))
        for queue in [lane, "\(lane).dead", results] { try? await client.delete(queue: queue) }
        await client.close()
    }

}
