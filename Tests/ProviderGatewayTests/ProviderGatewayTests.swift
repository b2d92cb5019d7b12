import AMQPClient
import AsyncHTTPClient
import Contracts
import FakeProvider
import Foundation
import Logging
import Messaging
import ServiceStorage
import ServiceTestSupport
import Testing
import WorkflowKit

@testable import ProviderGateway

private func generator(_ configuration: ProvidersConfiguration) throws -> Generator {
    let gateway = ProviderGateway(
        configuration: configuration, database: try ServiceDatabase.inMemory(migrations: AnswerLedger.migrate),
        bus: InMemoryBus(logger: quiet), logger: quiet
    )
    return gateway.generator
}

@Suite("Provider adapters and the retry loop", .timeLimit(.minutes(1)))
struct ProviderGatewayTests {
    @Test func openAIRequestShapeAndUsage() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let result = try await generator(configuration(fake)).generate(
            GenerateContent(requestID: "r1", system: "Be brief.", user: "Say hello.", responseSchema: ["type": "object"], maxTokens: 50)
        )
        guard case .generated(let event) = result else {
            Issue.record("expected success, got \(result)")
            return
        }
        #expect(event.content == #"{"text":"hello from fake openai"}"#)
        #expect(event.tokensIn == 12 && event.tokensOut == 7)
        #expect(abs(event.cost - (12 * 1.0 + 7 * 2.0) / 1_000_000) < 1e-12)
        #expect(event.provider == "openai" && event.model == "gpt-test" && event.attempts == 1)
        let request = try #require(await fake.requests.first)
        #expect(request.path == "/v1/chat/completions")
        #expect(request.headers["authorization"] == "Bearer sk-test-123")
        let body = try JSONValue.parse(Data(request.body.utf8))
        #expect(body["model"] == "gpt-test")
        #expect(body["max_tokens"] == 50)
        #expect(body["messages"] == [["role": "system", "content": "Be brief."], ["role": "user", "content": "Say hello."]])
        #expect(body["response_format"]?["type"] == "json_schema")
        #expect(body["response_format"]?["json_schema"]?["schema"] == ["type": "object"])
    }

    @Test func anthropicRequestShapeAndUsage() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let result = try await generator(configuration(fake)).generate(
            GenerateContent(requestID: "r2", provider: "anthropic", system: "Be brief.", user: "Say hello.")
        )
        guard case .generated(let event) = result else {
            Issue.record("expected success, got \(result)")
            return
        }
        #expect(event.content == "hello from fake anthropic")
        #expect(event.tokensIn == 21 && event.tokensOut == 5)
        let request = try #require(await fake.requests.first)
        #expect(request.path == "/v1/messages")
        #expect(request.headers["x-api-key"] == "ant-test-456")
        #expect(request.headers["anthropic-version"] == "2023-06-01")
        let body = try JSONValue.parse(Data(request.body.utf8))
        #expect(body["system"] == "Be brief.")
        #expect(body["max_tokens"] == 4096)
        #expect(body["messages"] == [["role": "user", "content": "Say hello."]])
    }

    @Test func honoursRetryAfterOnA429() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        await fake.script([.init(status: 429, headers: ["retry-after": "2"], body: #"{"error":{"message":"slow down"}}"#)])
        let result = try await generator(configuration(fake)).generate(GenerateContent(requestID: "r3", user: "Hi"))
        guard case .generated(let event) = result else {
            Issue.record("expected success, got \(result)")
            return
        }
        #expect(event.attempts == 2)
        let requests = await fake.requests
        #expect(requests.count == 2)
        #expect(requests[1].at - requests[0].at >= .seconds(2))
    }

    @Test func serverErrorsAreRetriedThenFallBack() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let error = FakeProvider.Scripted(status: 500, body: #"{"error":{"message":"boom"}}"#)
        await fake.script([error, .init(status: 529, body: #"{"error":{"message":"overloaded"}}"#), error])
        let result = try await generator(configuration(fake)).generate(GenerateContent(requestID: "r4", user: "Business: Harbour Dental"))
        guard case .generated(let event) = result else {
            Issue.record("expected the fallback, got \(result)")
            return
        }
        #expect(event.provider == "local")
        #expect(event.attempts == 4)
        #expect(await fake.requests.count == 3)
    }

    @Test func authErrorsFailAtOnceWithTheProvidersMessage() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        await fake.script([.init(status: 401, body: #"{"error":{"message":"Incorrect API key provided"}}"#)])
        let result = try await generator(configuration(fake)).generate(GenerateContent(requestID: "r5", user: "Hi"))
        guard case .failed(let event) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(event.kind == "auth")
        #expect(event.message.contains("Incorrect API key provided"))
        #expect(!event.retryable)
        #expect(await fake.requests.count == 1)
    }

    @Test func aMalformedBodyIsAClearFailureNotACrash() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let malformed = FakeProvider.Scripted(status: 200, body: "<html>oops</html>")
        await fake.script([malformed, malformed, malformed])
        let result = try await generator(configuration(fake)).generate(GenerateContent(requestID: "r6", provider: "anthropic", user: "Hi"))
        guard case .failed(let event) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(event.kind == "malformed")
        #expect(event.message.contains("not JSON"))
        #expect(event.attempts == 3)
    }

    @Test func neverRetriesPastTheDeadline() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        await fake.script([.init(status: 429, headers: ["retry-after": "30"], body: "{}")])
        let result = try await generator(configuration(fake)).generate(
            GenerateContent(requestID: "r7", user: "Hi", deadline: Date().addingTimeInterval(10))
        )
        guard case .failed(let event) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(event.kind == "deadline")
        #expect(await fake.requests.count == 1)
    }

    @Test func classifiesStatusesAndRetryAfterHeaders() {
        #expect(ProviderFailure.from(status: 429, body: "{}", retryAfter: nil).kind == .rateLimit)
        #expect(ProviderFailure.from(status: 429, body: #"{"error":{"code":"insufficient_quota"}}"#, retryAfter: nil).kind == .auth)
        #expect(
            ProviderFailure.from(status: 400, body: #"{"error":{"code":"context_length_exceeded"}}"#, retryAfter: nil).kind
                == .contextLength)
        #expect(ProviderFailure.from(status: 400, body: "{}", retryAfter: nil).kind == .badRequest)
        #expect(ProviderFailure.from(status: 529, body: "{}", retryAfter: nil).kind == .overloaded)
        #expect(ProviderFailure.from(status: 502, body: "{}", retryAfter: nil).kind == .server)
        #expect(JSONPoster.retryAfter(["retry-after-ms": "1500", "retry-after": "9"]) == .milliseconds(1500))
        #expect(JSONPoster.retryAfter(["retry-after": "3"]) == .seconds(3))
    }
}

@Suite struct ProvidersConfigurationTests {
    @Test func badConfigurationNamesTheField() {
        let cases: [(String, [String: String], String)] = [
            ("default_provider: x\nproviders: {}", [:], "default_provider: 'x' is not among the providers"),
            (
                "default_provider: a\nproviders: {a: {kind: openai, models: {m: {input_per_million: 1, output_per_million: 1}}}}", [:],
                "providers.a: needs api_key_env"
            ),
            (
                "default_provider: a\nproviders: {a: {kind: openai, api_key_env: NOPE, models: {m: {input_per_million: 1, output_per_million: 1}}}}",
                [:], "the environment variable NOPE is not set"
            ),
            (
                "default_provider: a\nproviders: {a: {kind: openai_compatible, models: {m: {input_per_million: 1, output_per_million: 1}}}}",
                [:], "providers.a.base_url"
            ),
            ("default_provider: a\nproviders: {a: {kind: local, models: {}}}", [:], "providers.a.models"),
            ("default_provider: a\nproviders: {a: {kind: laser, models: {}}}", [:], "providers.a.kind"),
            (
                "default_provider: a\nproviders: {a: {kind: local, models: {m: {input_per_million: 0}}}}", [:],
                "output_per_million: is required"
            ),
            (
                "default_provider: a\nproviders: {a: {kind: local, fallbacks: [b], models: {m: {input_per_million: 0, output_per_million: 0}}}}",
                [:], "fallbacks: 'b'"
            ),
        ]
        for (yaml, environment, message) in cases {
            let error = #expect(throws: ProvidersConfigurationError.self) {
                try ProvidersConfiguration.parse(yaml: yaml, environment: environment)
            }
            #expect(error?.description.contains(message) == true, "\(String(describing: error)) should contain \(message)")
        }
    }

    @Test func keysNeverAppearInDescriptions() throws {
        let configuration = try ProvidersConfiguration.parse(
            yaml:
                "default_provider: a\nproviders: {a: {kind: anthropic, api_key_env: K, models: {m: {input_per_million: 1, output_per_million: 1}}}}",
            environment: ["K": "super-secret"]
        )
        #expect(!"\(configuration)".contains("super-secret"))
    }

    @Test func theShippedProvidersFileLoads() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("providers.yaml")
        let configuration = try ProvidersConfiguration.load(path: file.path, environment: [:])
        #expect(configuration.defaultProvider == "local")
    }
}

@Suite struct LocalProviderTests {
    /// Every AI stage of every built-in workflow gets a valid answer offline.
    @Test(arguments: ["website", "ebook", "course", "survey", "video"])
    func answersEveryBuiltInOutputSchemaValidly(code: String) async throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Workflows/\(code)")
        let definition = try WorkflowLoader.load(directory: folder).definition
        for stage in definition.stages where stage.executionMode == .ai {
            let schema = try #require(stage.outputSchema)
            let completion = try await LocalProvider().complete(
                CompletionRequest(
                    model: "local-writer", system: nil, user: "Business: Harbour Dental\nIndustry: dentistry", responseSchema: schema)
            )
            let value = try JSONValue.parse(Data(completion.content.utf8))
            #expect(try JSONSchema(schema).validate(value) == [], "\(code).\(stage.code)")
            #expect(
                completion.content.contains("Harbour Dental") || completion.content.contains("dentistry") || stage.code == "design",
                "\(code).\(stage.code) uses the request's words")
        }
    }
}

@Suite("ProviderGateway over the bus", .timeLimit(.minutes(1)))
struct ProviderGatewayBusTests {
    @Test func aGenerateContentCommandProducesAContentGeneratedEvent() async throws {
        let bus = InMemoryBus(logger: quiet)
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let gateway = ProviderGateway(
            configuration: try configuration(fake), database: try ServiceDatabase.inMemory(migrations: AnswerLedger.migrate), bus: bus,
            logger: quiet)
        try await bus.declare(
            Topology.standardExchanges + gateway.topology + .workQueue("test.results", bindings: [(Exchange.events, "provider.#")]))
        let command = try OutgoingMessage.command(
            GenerateContent(requestID: "req-9", provider: "local", user: "Business: Harbour Dental"), context: MessageContext())
        try await bus.publish(command)
        let lane = Task { try await gateway.serveLane("local") }
        defer { lane.cancel() }
        try await waitForResults(1, on: bus)
        let envelope = try MessageCoder().decode(
            Envelope<ContentGenerated>.self, from: try #require(bus.messages(in: "test.results").first))
        #expect(envelope.payload.requestID == "req-9")
        #expect(envelope.payload.provider == "local")
        #expect(envelope.idempotencyKey == "req-9")
        #expect(envelope.payload.content.contains("Harbour Dental"))
    }

    @Test func aRequestAnsweredBeforeIsAnsweredFromTheLedgerWithoutASecondCall() async throws {
        let bus = InMemoryBus(logger: quiet)
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let database = try ServiceDatabase.inMemory(migrations: AnswerLedger.migrate)
        let gateway = ProviderGateway(configuration: try configuration(fake), database: database, bus: bus, logger: quiet)
        try await bus.declare(
            Topology.standardExchanges + gateway.topology + .workQueue("test.results", bindings: [(Exchange.events, "provider.#")]))
        let command = try OutgoingMessage.command(
            GenerateContent(requestID: "req-10", provider: "openai", user: "Hi"), context: MessageContext())
        let lane = Task { try await gateway.serveLane("openai") }
        defer { lane.cancel() }
        try await bus.publish(command)
        try await waitForResults(1, on: bus)
        try await bus.publish(command)  // the same message again, as an upstream outbox may send it after a crash
        try await waitForResults(2, on: bus)
        let results = try bus.messages(in: "test.results").map { try MessageCoder().decode(Envelope<ContentGenerated>.self, from: $0) }
        #expect(results[0].id == results[1].id, "the stored answer, not a new one")
        #expect(await fake.requests.count == 1)
        let usage = try await database.read { db in try AnswerRecord.fetchAll(db) }
        #expect(usage.count == 1)
        #expect(usage.first?.requestID == "req-10" && usage.first?.tokensIn == 12 && usage.first?.tokensOut == 7)
        #expect(usage.first?.provider == "openai" && usage.first?.outcome == "generated")
    }

    @Test func answersOlderThanTheRetentionArePruned() async throws {
        let database = try ServiceDatabase.inMemory(migrations: AnswerLedger.migrate)
        let ledger = AnswerLedger(database: database, retention: 3600)
        let event = ContentGenerated(
            requestID: "old", content: "x", tokensIn: 1, tokensOut: 1, cost: 0, provider: "p", model: "m", latencyMilliseconds: 1,
            attempts: 1)
        let answer = try OutgoingMessage.event(event, context: MessageContext())
        try await database.write { db in
            try AnswerRecord(answer, outcome: .generated(event), requestMessageID: "a", at: Date().addingTimeInterval(-7200)).insert(db)
            try AnswerRecord(answer, outcome: .generated(event), requestMessageID: "b", at: Date()).insert(db)
        }
        #expect(try await ledger.prune() == 1)
        #expect(try await database.read { db in try AnswerRecord.fetchAll(db).map(\.requestMessageID) } == ["b"])
    }

    private func waitForResults(_ count: Int, on bus: InMemoryBus) async throws {
        _ = try await eventually { try await bus.messageCount(queue: "test.results") >= count }
        try #require(try await bus.messageCount(queue: "test.results") == count)
    }
}
