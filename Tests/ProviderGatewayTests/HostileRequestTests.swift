import AMQPClient
import Contracts
import FakeProvider
import Foundation
import Messaging
import NIOHTTP1
import OfflineDrafts
import ServiceStorage
import ServiceTestSupport
import Synchronization
import Testing

@testable import ProviderGateway

/// Requests from outside that break the bounds get exactly one answer, a `bad_request` naming the field, and never
/// reach a provider; numbers at their extremes never trap.
@Suite("Hostile GenerateContent requests", .timeLimit(.minutes(1)))
struct HostileRequestTests {
    /// A gateway on the in-memory bus with the fake provider as `openai`, and where its answers land.
    struct Bed {
        let bus = InMemoryBus(logger: quiet)
        let fake: FakeProvider
        let gateway: ProviderGateway

        init() async throws {
            fake = try await FakeProvider.start()
            gateway = ProviderGateway(
                configuration: try configuration(fake, fallbacks: []),
                database: try ServiceDatabase.inMemory(migrations: AnswerLedger.migrate), bus: bus, logger: quiet)
            try await bus.declare(
                Topology.standardExchanges + gateway.topology + Topology(queues: [QueueSpec(name: "test.stream")])
                    + .workQueue("test.results", bindings: [(Exchange.events, "provider.#")]))
        }

        /// Sends raw envelopes to the `openai` lane and returns the answers once `count` arrived.
        func answers(to bodies: [Data], expecting count: Int) async throws -> [IncomingMessage] {
            try await bus.publish(
                bodies.map {
                    OutgoingMessage(exchange: Exchange.commands, routingKey: GenerateContent.routingKey(provider: "openai"), body: $0)
                })
            let lane = Task { try await gateway.serveLane("openai") }
            defer { lane.cancel() }
            _ = try await eventually { try await bus.messageCount(queue: "test.results") >= count }
            return try bus.messages(in: "test.results").map {
                try IncomingMessage(body: $0, queue: "test.results", routingKey: "", redelivered: false, replyTo: nil)
            }
        }
    }

    static func envelope(_ request: GenerateContent) throws -> Data {
        try MessageCoder().encode(Envelope(request, correlationID: "hostile"))
    }

    static let outOfBounds: [(GenerateContent, String)] = [
        (GenerateContent(requestID: "max-int", user: "Hi", maxTokens: Int.max), "maxTokens"),
        (GenerateContent(requestID: "negative", user: "Hi", maxTokens: -5), "maxTokens"),
        (GenerateContent(requestID: "two-billion", user: "Hi", maxTokens: 2_000_000_000), "maxTokens"),
        (GenerateContent(requestID: "hot", user: "Hi", temperature: 1e308), "temperature"),
        (GenerateContent(requestID: "past", user: "Hi", deadline: Date(timeIntervalSince1970: 0)), "deadline"),
        (GenerateContent(requestID: "long-stream", user: "Hi", streamTo: String(repeating: "s", count: 300)), "streamTo"),
        (GenerateContent(requestID: "no-stream", user: "Hi", streamTo: "test.nobody-declared-this"), "streamTo"),
        (GenerateContent(requestID: "reserved", user: "Hi", streamTo: "amq.rabbitmq.reply-to"), "streamTo"),
        (GenerateContent(requestID: "huge", user: String(repeating: "x", count: RequestCheck.maximumPromptBytes + 1)), "system, user"),
        (GenerateContent(requestID: "no-model", model: "gpt-none", user: "Hi"), "model"),
        (GenerateContent(requestID: String(repeating: "r", count: 201), user: "Hi"), "requestID"),
    ]

    @Test func everyOutOfBoundsRequestIsRefusedOnceByNameAndNeverReachesAProvider() async throws {
        let bed = try await Bed()
        defer { bed.fake.stop() }
        let requests = Self.outOfBounds + [(GenerateContent(requestID: "ordinary", user: "Hi", maxTokens: 50), "")]
        let answers = try await bed.answers(to: try requests.map { try Self.envelope($0.0) }, expecting: requests.count)
        #expect(answers.count == requests.count, "one answer each, none missing, none twice")
        var failures: [String: GenerationFailed] = [:]
        for answer in answers where answer.header.type == GenerationFailed.type {
            let failure = try answer.decode(GenerationFailed.self).payload
            failures[failure.requestID] = failure
        }
        for (request, field) in Self.outOfBounds {
            let failure = try #require(failures[request.requestID], "no answer to \(request.requestID.prefix(20))")
            #expect(failure.kind == "bad_request")
            #expect(failure.message.hasPrefix(field), "\(failure.message)")
            #expect(!failure.retryable)
        }
        #expect(failures["ordinary"] == nil)
        #expect(answers.contains { $0.header.type == ContentGenerated.type })
        #expect(await bed.fake.requests.count == 1, "only the ordinary request was sent to the provider")
    }

    @Test func aPayloadThatDoesNotDecodeIsAnsweredWhenItsRequestIDCanBeReadElseDeadLettered() async throws {
        let bed = try await Bed()
        defer { bed.fake.stop() }
        let header =
            #""id":"\#(UUID().uuidString)","type":"provider.generate-content.v1","occurredAt":"2026-12-01T00:00:00Z","correlationID":"c""#
        let readable = Data(#"{\#(header),"payload":{"requestID":"wrong-type","user":"Hi","maxTokens":"many"}}"#.utf8)
        let header2 =
            #""id":"\#(UUID().uuidString)","type":"provider.generate-content.v1","occurredAt":"2026-12-01T00:00:00Z","correlationID":"c""#
        let unreadable = Data(#"{\#(header2),"payload":{"user":42}}"#.utf8)
        let answers = try await bed.answers(to: [unreadable, readable], expecting: 1)
        let failure = try #require(answers.first).decode(GenerationFailed.self).payload
        #expect(failure.requestID == "wrong-type")
        #expect(failure.kind == "bad_request")
        _ = try await eventually { !bed.bus.messages(in: "\(ProviderGateway.laneQueue("openai")).dead").isEmpty }
        #expect(bed.bus.messages(in: "\(ProviderGateway.laneQueue("openai")).dead").count == 1)
        #expect(await bed.fake.requests.isEmpty)
    }

    @Test(
        arguments: [
            ("inf", JSONPoster.retryAfterLimit), ("1e20", JSONPoster.retryAfterLimit), ("-5", .zero), ("nan", .zero),
            ("2", .seconds(2)),
        ] as [(String, Duration)])
    func retryAfterValuesFromOutsideNeverTrap(_ header: String, _ expected: Duration) {
        var headers = HTTPHeaders()
        headers.add(name: "retry-after", value: header)
        #expect(JSONPoster.retryAfter(headers) == expected)
    }

    @Test func aHugeRetryAfterGivesTheRequestBackInsteadOfSleepingOnASlot() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        await fake.script([.init(status: 429, headers: ["retry-after": "1e20"], body: #"{"error":{"message":"come back next century"}}"#)])
        let gate = CountingGate()
        let gateway = ProviderGateway(
            configuration: try configuration(fake, fallbacks: []),
            database: try ServiceDatabase.inMemory(migrations: AnswerLedger.migrate), bus: InMemoryBus(logger: quiet), logger: quiet,
            gate: gate)
        let result = await gateway.generator.generate(GenerateContent(requestID: "patient", user: "Hi"))
        guard case .failed(let failure) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(failure.retryable)
        #expect(failure.kind == "rate_limit")
        #expect(gate.held == 0, "the slot was given back")
    }

    @Test func implausibleUsageFromAProviderIsNotBelieved() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        await fake.script([
            .init(
                status: 200, headers: [:],
                body: #"{"choices":[{"message":{"content":"ok"}}],"usage":{"prompt_tokens":1e300,"completion_tokens":-4}}"#)
        ])
        let gateway = ProviderGateway(
            configuration: try configuration(fake, fallbacks: []),
            database: try ServiceDatabase.inMemory(migrations: AnswerLedger.migrate), bus: InMemoryBus(logger: quiet), logger: quiet,
            gate: CountingGate())
        let result = await gateway.generator.generate(GenerateContent(requestID: "usage", user: "Hi"))
        guard case .generated(let event) = result else {
            Issue.record("expected success, got \(result)")
            return
        }
        #expect(event.tokensIn == LocalProvider.estimateTokens("Hi"))
        #expect(event.tokensOut == LocalProvider.estimateTokens("ok"))
    }

    @Test func tokenEstimatesSaturate() {
        let request = CompletionRequest(model: "m", system: nil, user: "Hi", responseSchema: nil, maxTokens: Int.max, temperature: nil)
        #expect(Generator.estimateTokens(request) == Int.max)
        #expect(Int.max.subtractingSaturated(-1) == Int.max)
        #expect(Int.min.subtractingSaturated(1) == Int.min)
    }

    @Test func aSlotThatNeverComesEndsAtTheRequestsDeadline() async throws {
        let gateway = ProviderGateway(
            configuration: try ProvidersConfiguration.parse(
                yaml:
                    "default_provider: local\nproviders:\n  local: {kind: local, models: {w: {input_per_million: 0, output_per_million: 0}}}",
                environment: [:]),
            database: try ServiceDatabase.inMemory(migrations: AnswerLedger.migrate), bus: InMemoryBus(logger: quiet), logger: quiet,
            gate: CountingGate(slotsAvailable: false))
        let started = ContinuousClock.now
        let result = await gateway.generator.generate(
            GenerateContent(requestID: "late", user: "Hi", deadline: Date().addingTimeInterval(0.3)))
        guard case .failed(let failure) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(failure.kind == "deadline")
        #expect(ContinuousClock.now - started < .seconds(20), "a 0.3 s deadline ends the wait, with room for a loaded machine")
    }

    @Test func aHostileSchemaNeverMakesTheLocalProviderTrapOrGrow() async throws {
        let schema: JSONValue = [
            "type": "object",
            "properties": [
                "items": ["type": "array", "minItems": 1e300, "maxItems": 1e300, "items": ["type": "string", "minLength": 1e12]],
                "count": ["type": "integer", "minimum": -1e308, "maximum": 1e308],
            ],
        ]
        let completion = try await LocalProvider().complete(
            CompletionRequest(model: "w", system: nil, user: "Hi", responseSchema: schema, maxTokens: nil, temperature: nil))
        #expect(completion.content.utf8.count < 2 * DraftWriter.maximumItems * DraftWriter.maximumTextLength)
    }
}

/// Every call admitted at once, counting the slots held; or, with `slotsAvailable: false`, a slot that never comes.
final class CountingGate: CallGate {
    private let count = Mutex(0)
    let slotsAvailable: Bool

    init(slotsAvailable: Bool = true) {
        self.slotsAvailable = slotsAvailable
    }

    var held: Int { count.withLock { $0 } }

    func slot(_ provider: String) async throws -> @Sendable () async -> Void {
        if !slotsAvailable {
            try await Task.sleep(for: .seconds(3600))
        }
        count.withLock { $0 += 1 }
        return { self.count.withLock { $0 -= 1 } }
    }

    func permit(_ provider: String) async throws {}
    func tokens(_ provider: String, _ tokens: Int) async throws {}
}
