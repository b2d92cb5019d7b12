import AMQPClient
import AsyncHTTPClient
import Contracts
import Foundation
import NIOCore
import NIOHTTP1
import RuntimeSupport
import Synchronization

/// Sends a JSON body over AsyncHTTPClient and turns every failure into a classified ``ProviderFailure``.
struct JSONPoster: Sendable {
    let client: HTTPClient
    let timeout: Duration

    func post(url: String, headers: [(String, String)], body: JSONValue) async throws(ProviderFailure) -> JSONValue {
        let text = try await call(url: url, headers: headers, body: body) { response throws(ProviderFailure) in
            try await Self.collect(response.body, from: url)
        }
        do {
            return try JSONValue.parse(Data(text.utf8))
        } catch {
            throw ProviderFailure(kind: .malformed, message: "the provider answered with a body that is not JSON: \(text.prefix(200))")
        }
    }

    /// Posts `body` and hands each server-sent event of the answer to `onEvent` as it arrives.
    func stream(
        url: String,
        headers: [(String, String)],
        body: JSONValue,
        onEvent: (ServerSentEvent) async throws(ProviderFailure) -> Void
    ) async throws(ProviderFailure) {
        try await call(url: url, headers: headers + [("accept", "text/event-stream")], body: body) { response throws(ProviderFailure) in
            var parser = ServerSentEventParser()
            var iterator = response.body.makeAsyncIterator()
            while true {
                let buffer: ByteBuffer?
                do {
                    buffer = try await iterator.next()
                } catch {
                    throw Self.failure(error, calling: url, timeout: timeout)
                }
                guard let buffer else { break }
                for event in parser.feed(buffer.readableBytesView) { try await onEvent(event) }
            }
            if let last = parser.finish() { try await onEvent(last) }
        }
    }

    /// Sends the request; a 2xx answer goes to `read`, any other becomes a classified failure.
    private func call<Result>(
        url: String,
        headers: [(String, String)],
        body: JSONValue,
        read: (HTTPClientResponse) async throws(ProviderFailure) -> Result
    ) async throws(ProviderFailure) -> Result {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body.jsonString()))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
        } catch {
            throw Self.failure(error, calling: url, timeout: timeout)
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let text = try await Self.collect(response.body, from: url)
            throw ProviderFailure.from(status: status, body: text, retryAfter: Self.retryAfter(response.headers))
        }
        return try await read(response)
    }

    private static func collect(_ body: HTTPClientResponse.Body, from url: String) async throws(ProviderFailure) -> String {
        do {
            return String(buffer: try await body.collect(upTo: 16 * 1024 * 1024))
        } catch {
            throw failure(error, calling: url, timeout: nil)
        }
    }

    private static func failure(_ error: any Error, calling url: String, timeout: Duration?) -> ProviderFailure {
        if let error = error as? HTTPClientError, error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return ProviderFailure(
                kind: .timeout, message: "no answer from \(url) within \(timeout.map { "\($0)" } ?? "the timeout") (\(error))")
        }
        return ProviderFailure(kind: .server, message: "calling \(url) failed: \(error)")
    }

    /// The longest `Retry-After` taken as it is; anything longer (`inf`, `1e20`) counts as this long.
    static let retryAfterLimit: Duration = .seconds(86_400)

    /// `retry-after-ms` (OpenAI) wins over `retry-after` (seconds or an HTTP date). Values come from outside: any
    /// number, however large, negative or not a number, is held within `0...retryAfterLimit`.
    static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        if let milliseconds = headers.first(name: "retry-after-ms").flatMap(Double.init) {
            return .clamped(seconds: milliseconds / 1000, limit: retryAfterLimit)
        }
        guard let value = headers.first(name: "retry-after") else { return nil }
        if let seconds = Double(value) { return .clamped(seconds: seconds, limit: retryAfterLimit) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .clamped(seconds: date.timeIntervalSinceNow, limit: retryAfterLimit)
    }
}

/// OpenAI chat completions, also for any OpenAI-compatible server (vLLM, Ollama, llama.cpp).
struct OpenAIClient: ProviderClient {
    let baseURL: String
    let apiKey: Secret?
    let poster: JSONPoster

    func complete(_ request: CompletionRequest, onText: TextSink?) async throws(ProviderFailure) -> Completion {
        var messages: [JSONValue] = []
        if let system = request.system { messages.append(["role": "system", "content": .string(system)]) }
        messages.append(["role": "user", "content": .string(request.user)])
        var body: [String: JSONValue] = ["model": .string(request.model), "messages": .array(messages)]
        if let maxTokens = request.maxTokens { body["max_tokens"] = .number(Double(maxTokens)) }
        if let temperature = request.temperature { body["temperature"] = .number(temperature) }
        if let schema = request.responseSchema {
            body["response_format"] = ["type": "json_schema", "json_schema": ["name": "output", "schema": schema]]
        }
        let headers = apiKey.map { [("authorization", "Bearer \($0.value)")] } ?? []
        let url = baseURL + "/chat/completions"
        guard let onText else {
            let response = try await poster.post(url: url, headers: headers, body: .object(body))
            guard let content = response["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue else {
                throw ProviderFailure(
                    kind: .malformed, message: "the answer has no choices[0].message.content: \(response.jsonString().prefix(200))")
            }
            return Completion(
                request, content: content, tokensIn: response["usage"]?["prompt_tokens"], tokensOut: response["usage"]?["completion_tokens"]
            )
        }
        body["stream"] = true
        body["stream_options"] = ["include_usage": true]
        var content = ""
        var usage: JSONValue?
        var finished = false
        try await poster.stream(url: url, headers: headers, body: .object(body)) { event throws(ProviderFailure) in
            guard event.data != "[DONE]" else {
                finished = true
                return
            }
            let chunk = try JSONValue.parseStreamed(event.data)
            if let error = chunk["error"] {
                throw ProviderFailure(kind: .server, message: "the stream failed: \(error["message"]?.stringValue ?? error.jsonString())")
            }
            if let piece = chunk["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue, !piece.isEmpty {
                content += piece
                await onText(piece)
            }
            if let reported = chunk["usage"], reported != .null { usage = reported }
        }
        guard finished else { throw ProviderFailure(kind: .server, message: "the stream ended before data: [DONE]") }
        return Completion(request, content: content, tokensIn: usage?["prompt_tokens"], tokensOut: usage?["completion_tokens"])
    }
}

/// Anthropic messages API.
struct AnthropicClient: ProviderClient {
    static let version = "2023-06-01"
    let baseURL: String
    let apiKey: Secret?
    let poster: JSONPoster

    func complete(_ request: CompletionRequest, onText: TextSink?) async throws(ProviderFailure) -> Completion {
        var system = request.system ?? ""
        if let schema = request.responseSchema {
            system += "\n\nAnswer with only a JSON value that matches this JSON schema:\n\(schema.jsonString())"
        }
        var body: [String: JSONValue] = [
            "model": .string(request.model),
            "max_tokens": .number(Double(request.maxTokens ?? 4096)),
            "messages": [["role": "user", "content": .string(request.user)]],
        ]
        if !system.isEmpty { body["system"] = .string(system) }
        if let temperature = request.temperature { body["temperature"] = .number(temperature) }
        var headers = [("anthropic-version", Self.version)]
        if let apiKey { headers.append(("x-api-key", apiKey.value)) }
        let url = baseURL + "/v1/messages"
        guard let onText else {
            let response = try await poster.post(url: url, headers: headers, body: .object(body))
            let texts = response["content"]?.arrayValue?.filter { $0["type"] == "text" }.compactMap { $0["text"]?.stringValue }
            guard let texts, !texts.isEmpty else {
                throw ProviderFailure(kind: .malformed, message: "the answer has no text content: \(response.jsonString().prefix(200))")
            }
            return Completion(
                request, content: texts.joined(), tokensIn: response["usage"]?["input_tokens"],
                tokensOut: response["usage"]?["output_tokens"])
        }
        body["stream"] = true
        var content = ""
        var tokensIn: JSONValue?
        var tokensOut: JSONValue?
        var finished = false
        try await poster.stream(url: url, headers: headers, body: .object(body)) { event throws(ProviderFailure) in
            let data = try JSONValue.parseStreamed(event.data)
            switch event.event ?? data["type"]?.stringValue {
            case "message_start":
                tokensIn = data["message"]?["usage"]?["input_tokens"]
                tokensOut = data["message"]?["usage"]?["output_tokens"]
            case "content_block_delta":
                if data["delta"]?["type"] == "text_delta", let piece = data["delta"]?["text"]?.stringValue, !piece.isEmpty {
                    content += piece
                    await onText(piece)
                }
            case "message_delta":
                if let reported = data["usage"]?["output_tokens"] { tokensOut = reported }
            case "message_stop":
                finished = true
            case "error":
                throw Self.streamFailure(data["error"])
            default:
                break  // ping, content_block_start, content_block_stop
            }
        }
        guard finished else { throw ProviderFailure(kind: .server, message: "the stream ended before message_stop") }
        return Completion(request, content: content, tokensIn: tokensIn, tokensOut: tokensOut)
    }

    /// An `error` event in the middle of a stream, classified by its type.
    static func streamFailure(_ error: JSONValue?) -> ProviderFailure {
        let kind: ProviderFailure.Kind =
            switch error?["type"]?.stringValue {
            case "overloaded_error": .overloaded
            case "rate_limit_error": .rateLimit
            case "api_error", "timeout_error": .server
            case "authentication_error", "permission_error": .auth
            default: .badRequest
            }
        return ProviderFailure(kind: kind, message: "the stream failed: \(error?["message"]?.stringValue ?? "no message")")
    }
}

extension Completion {
    /// The provider's usage, or an estimate of about four characters a token where it reported none.
    init(_ request: CompletionRequest, content: String, tokensIn: JSONValue?, tokensOut: JSONValue?) {
        self.init(
            content: content,
            tokensIn: tokensIn?.numberValue.flatMap(Self.tokenCount) ?? LocalProvider.estimateTokens((request.system ?? "") + request.user),
            tokensOut: tokensOut?.numberValue.flatMap(Self.tokenCount) ?? LocalProvider.estimateTokens(content)
        )
    }

    /// The most tokens one call is believed to use; a reported count past it (or negative, or not a number) is
    /// not believed and the estimate is used instead.
    static let maximumReportedTokens = 100_000_000

    /// A provider-reported token count, when it is a plausible whole number.
    static func tokenCount(_ reported: Double) -> Int? {
        guard reported.isFinite, reported >= 0, reported <= Double(maximumReportedTokens) else { return nil }
        return Int(reported)
    }
}

extension JSONValue {
    /// The JSON of one streamed event; anything else is a malformed answer.
    static func parseStreamed(_ data: String) throws(ProviderFailure) -> JSONValue {
        do {
            return try JSONValue.parse(Data(data.utf8))
        } catch {
            throw ProviderFailure(kind: .malformed, message: "a streamed event is not JSON: \(data.prefix(200))")
        }
    }
}

/// HTTP clients for provider calls, one per connect timeout, kept for the life of the process (a client must be
/// shut down before it goes away, and these never go).
enum HTTPClients {
    private static let clients = Mutex<[Duration: HTTPClient]>([:])

    static func shared(connectTimeout: Duration) -> HTTPClient {
        clients.withLock { clients in
            if let client = clients[connectTimeout] { return client }
            var configuration = HTTPClient.Configuration()
            configuration.timeout.connect = .nanoseconds(connectTimeout.nanoseconds)
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[connectTimeout] = client
            return client
        }
    }
}
