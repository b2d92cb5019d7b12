import AMQPClient
import Contracts
import FakeProvider
import Foundation
import Logging
import Messaging
import ServiceStorage
import ServiceTestSupport
import Testing

@testable import ProviderGateway

/// Collects streamed text with the number of the call it came from.
private actor Pieces {
    var received: [(attempt: Int, text: String)] = []
    func add(_ attempt: Int, _ text: String) { received.append((attempt, text)) }
}

@Suite("Server-sent events")
struct ServerSentEventParserTests {
    @Test func readsEventsCutAnywhereWithAnyLineEnding() {
        let stream = "event: a\r\ndata: one\r\ndata: two\r\n\r\n: a comment\n\ndata:three\rdata: four\r\rdata: [DONE]\n\n"
        let bytes = Array(stream.utf8)
        for cut in 0..<bytes.count {
            var parser = ServerSentEventParser()
            let events = parser.feed(bytes[..<cut]) + parser.feed(bytes[cut...]) + [parser.finish()].compactMap { $0 }
            #expect(
                events == [
                    ServerSentEvent(event: "a", data: "one\ntwo"), ServerSentEvent(event: nil, data: "three\nfour"),
                    ServerSentEvent(event: nil, data: "[DONE]"),
                ], "cut at \(cut)")
        }
    }

    @Test func anEventWithoutTheClosingBlankLineIsStillRead() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data: last".utf8)).isEmpty)
        #expect(parser.finish() == ServerSentEvent(event: nil, data: "last"))
    }
}

@Suite("Streaming adapters", .timeLimit(.minutes(1)))
struct StreamingAdapterTests {
    @Test(arguments: [("openai", "hello from fake openai", 12, 7), ("anthropic", "hello from fake anthropic", 21, 5)])
    func streamsPiecesInOrderWithUsage(provider: String, text: String, tokensIn: Int, tokensOut: Int) async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let gateway = ProviderGateway(
            configuration: try configuration(fake, fallbacks: []), database: try ServiceDatabase.inMemory(migrations: AnswerLedger.migrate),
            bus: InMemoryBus(logger: quiet), logger: quiet)
        let pieces = Pieces()
        let result = await gateway.generator.generate(GenerateContent(requestID: "s-\(provider)", provider: provider, user: "Say hello.")) {
            await pieces.add($0, $1)
        }
        guard case .generated(let event) = result else {
            Issue.record("expected success, got \(result)")
            return
        }
        let received = await pieces.received
        #expect(received.count >= 2, "the text arrives in pieces")
        #expect(received.map(\.text).joined() == text)
        #expect(received.allSatisfy { $0.attempt == 1 })
        #expect(event.content == text)
        #expect(event.tokensIn == tokensIn && event.tokensOut == tokensOut)
        let body = try JSONValue.parse(Data(try #require(await fake.requests.first).body.utf8))
        #expect(body["stream"] == true)
        if provider == "openai" { #expect(body["stream_options"]?["include_usage"] == true) }
    }

    @Test func anErrorEventMidStreamIsClassifiedAndRetriedAsANewAttempt() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let broken = """
            event: message_start
            data: {"type":"message_start","message":{"usage":{"input_tokens":3,"output_tokens":1}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"half an ans"}}

            event: error
            data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}


            """
        await fake.script([.init(status: 200, headers: ["content-type": "text/event-stream"], body: broken)])
        let gateway = ProviderGateway(
            configuration: try configuration(fake, fallbacks: []), database: try ServiceDatabase.inMemory(migrations: AnswerLedger.migrate),
            bus: InMemoryBus(logger: quiet), logger: quiet)
        let pieces = Pieces()
        let result = await gateway.generator.generate(GenerateContent(requestID: "s-err", provider: "anthropic", user: "Hi")) {
            await pieces.add($0, $1)
        }
        guard case .generated(let event) = result else {
            Issue.record("expected success on the second attempt, got \(result)")
            return
        }
        #expect(event.attempts == 2)
        #expect(event.content == "hello from fake anthropic")
        let received = await pieces.received
        #expect(received.first?.attempt == 1 && received.first?.text == "half an ans")
        #expect(received.dropFirst().allSatisfy { $0.attempt == 2 })
        #expect(received.filter { $0.attempt == 2 }.map(\.text).joined() == "hello from fake anthropic")
    }

    @Test func aStreamThatStopsBeforeItsEndIsARetryableFailure() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let cut = FakeProvider.Scripted(
            status: 200, headers: ["content-type": "text/event-stream"],
            body: "data: {\"choices\":[{\"delta\":{\"content\":\"partial\"}}]}\n\n")
        await fake.script([cut, cut, cut])
        let gateway = ProviderGateway(
            configuration: try configuration(fake, fallbacks: []), database: try ServiceDatabase.inMemory(migrations: AnswerLedger.migrate),
            bus: InMemoryBus(logger: quiet), logger: quiet)
        let result = await gateway.generator.generate(GenerateContent(requestID: "s-cut", user: "Hi")) { _, _ in }
        guard case .failed(let event) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(event.kind == "server" && event.retryable)
        #expect(event.message.contains("[DONE]"))
        #expect(event.attempts == 3)
    }
}

@Suite("Streaming over the bus", .timeLimit(.minutes(1)))
struct StreamingBusTests {
    @Test(arguments: ["openai", "local"])
    func chunksArriveInOrderOnTheStreamQueueThenTheResult(provider: String) async throws {
        let bus = InMemoryBus(logger: quiet)
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let gateway = ProviderGateway(
            configuration: try configuration(fake, fallbacks: []), database: try ServiceDatabase.inMemory(migrations: AnswerLedger.migrate),
            bus: bus, logger: quiet)
        try await bus.declare(
            Topology.standardExchanges + gateway.topology + Topology(queues: [QueueSpec(name: "test.stream")])
                + .workQueue("test.results", bindings: [(Exchange.events, "provider.#")]))
        try await bus.send(
            GenerateContent(
                requestID: "stream-1", provider: provider, user: "Business: Harbour Dental\nWrite a greeting for the website.",
                streamTo: "test.stream"),
            context: MessageContext())
        let lane = Task { try await gateway.serveLane(provider) }
        defer { lane.cancel() }
        try #require(try await eventually { try await bus.messageCount(queue: "test.results") >= 1 }, "no result event")
        let streamed = bus.messages(in: "test.stream")
        let result = try MessageCoder().decode(Envelope<ContentGenerated>.self, from: try #require(streamed.last))
        let chunks = try streamed.dropLast().map { try MessageCoder().decode(Envelope<GenerationChunk>.self, from: $0).payload }
        #expect(!chunks.isEmpty)
        #expect(chunks.map(\.index) == Array(0..<chunks.count))
        #expect(chunks.allSatisfy { $0.requestID == "stream-1" && $0.attempt == 1 })
        #expect(chunks.map(\.text).joined() == result.payload.content)
        let event = try MessageCoder().decode(Envelope<ContentGenerated>.self, from: try #require(bus.messages(in: "test.results").first))
        #expect(event.id == result.id, "the stream ends with the result event itself")
    }
}
