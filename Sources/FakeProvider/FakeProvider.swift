import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// A provider server for tests that speaks the OpenAI and Anthropic wire formats, records every request it served,
/// and can add latency, answer with scripted errors (429 with Retry-After, 500, 529, malformed bodies) and enforce
/// a true sliding-window rate limit of its own.
public final class FakeProvider: Sendable {
    /// A request the server answered.
    public struct Recorded: Sendable {
        public let path: String
        public let headers: [String: String]
        public let body: String
        public let at: ContinuousClock.Instant
    }

    /// An answer to give instead of the normal one.
    public struct Scripted: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String

        public init(status: Int, headers: [String: String] = [:], body: String) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    private actor State {
        var script: [Scripted] = []
        var recorded: [Recorded] = []
        var latency: Duration = .zero
        var limitPerSecond: Int?
        var rejectedByLimit = 0

        func setScript(_ script: [Scripted]) { self.script = script }
        public func setLatency(_ latency: Duration) { self.latency = latency }
        func setLimit(_ limit: Int?) { limitPerSecond = limit }

        /// Records the request and picks the answer: the script first, then the rate limit, then success.
        func take(_ request: Recorded) -> (Scripted?, Duration) {
            recorded.append(request)
            if !script.isEmpty { return (script.removeFirst(), latency) }
            if let limit = limitPerSecond {
                let window = recorded.filter { request.at - $0.at < .seconds(1) }.count
                if window > limit {
                    rejectedByLimit += 1
                    return (Scripted(status: 429, headers: ["retry-after": "1"], body: #"{"error":{"message":"rate limited"}}"#), latency)
                }
            }
            return (nil, latency)
        }
    }

    private let task: Task<Void, any Error>
    public let port: Int

    /// Starts the server on a free loopback port.
    public static func start() async throws -> FakeProvider {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let state = State()
        let router = Router()
        router.post("/v1/chat/completions") { request, _ in try await answer(request, state: state, openAI: true) }
        router.post("/v1/messages") { request, _ in try await answer(request, state: state, openAI: false) }
        var logger = Logger(label: "fake-provider")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let task = Task { try await app.runService() }
        var iterator = stream.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        return FakeProvider(state: state, task: task, port: port)
    }

    private init(state: State, task: Task<Void, any Error>, port: Int) {
        self.stateStorage = state
        self.task = task
        self.port = port
    }

    private let stateStorage: State

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public func script(_ responses: [Scripted]) async { await stateStorage.setScript(responses) }
    public func setLatency(_ latency: Duration) async { await stateStorage.setLatency(latency) }
    public func limit(perSecond: Int?) async { await stateStorage.setLimit(perSecond) }
    public var requests: [Recorded] { get async { await stateStorage.recorded } }
    /// Requests it refused because they broke its own rate limit.
    public var rejectedByLimit: Int { get async { await stateStorage.rejectedByLimit } }

    public func stop() {
        task.cancel()
    }

    private static func answer(_ request: Request, state: State, openAI: Bool) async throws -> Response {
        let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let (scripted, latency) = await state.take(Recorded(path: request.uri.path, headers: headers, body: body, at: .now))
        if latency > .zero { try await Task.sleep(for: latency) }
        if scripted == nil, body.contains(#""stream":true"#) {
            // Event by event, each in its own write, so clients meet events cut across reads as on a real network.
            let events = openAI ? openAIStream : anthropicStream
            var fields = HTTPFields()
            fields[.contentType] = "text/event-stream"
            return Response(
                status: .ok, headers: fields,
                body: ResponseBody { writer in
                    for event in events {
                        let cut = event.utf8.count / 2
                        try await writer.write(ByteBuffer(string: String(event.utf8.prefix(cut))!))
                        try await writer.write(ByteBuffer(string: String(event.utf8.dropFirst(cut))!))
                    }
                    try await writer.finish(nil)
                })
        }
        let reply = scripted ?? Scripted(status: 200, body: openAI ? openAIAnswer(body) : anthropicAnswer(body))
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        for (name, value) in reply.headers { if let field = HTTPField.Name(name) { fields[field] = value } }
        return Response(status: .init(code: reply.status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: reply.body)))
    }

    private static func openAIAnswer(_ request: String) -> String {
        #"{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"{\"text\":\"hello from fake openai\"}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}"#
    }

    private static func anthropicAnswer(_ request: String) -> String {
        #"{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"hello from fake anthropic"}],"stop_reason":"end_turn","usage":{"input_tokens":21,"output_tokens":5}}"#
    }

    /// The streamed form of the OpenAI answer: "hello from fake openai", then usage, then `[DONE]`.
    public static let openAIStream: [String] =
        [
            #"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
            #"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hello"}}]}"#,
            #"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" from"}}]}"#,
            #"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" fake openai"}}]}"#,
            #"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            #"{"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}"#,
            "[DONE]",
        ].map { "data: \($0)\n\n" }

    /// The streamed form of the Anthropic answer: "hello from fake anthropic" with usage at start and end.
    public static let anthropicStream: [String] = [
        (
            "message_start",
            #"{"type":"message_start","message":{"id":"msg_1","role":"assistant","content":[],"usage":{"input_tokens":21,"output_tokens":1}}}"#
        ),
        ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
        ("ping", #"{"type":"ping"}"#),
        ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hello"}}"#),
        ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" from fake anthropic"}}"#),
        ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
        ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}"#),
        ("message_stop", #"{"type":"message_stop"}"#),
    ].map { "event: \($0.0)\ndata: \($0.1)\n\n" }
}
