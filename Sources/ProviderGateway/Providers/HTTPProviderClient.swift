import AsyncHTTPClient
import Contracts
import Foundation
import NIOCore
import NIOHTTP1
import ServiceKit

/// Sends a JSON body over AsyncHTTPClient and turns every failure into a classified ``ProviderFailure``.
struct JSONPoster: Sendable {
    let client: HTTPClient
    let timeout: Duration

    func post(url: String, headers: [(String, String)], body: JSONValue) async throws(ProviderFailure) -> JSONValue {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body.jsonString()))
        let status: Int
        let text: String
        let retryAfter: Duration?
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
            status = Int(response.status.code)
            retryAfter = Self.retryAfter(response.headers)
            text = String(buffer: try await response.body.collect(upTo: 16 * 1024 * 1024))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw ProviderFailure(kind: .timeout, message: "no answer from \(url) within \(timeout) (\(error))")
        } catch {
            throw ProviderFailure(kind: .server, message: "calling \(url) failed: \(error)")
        }
        guard (200..<300).contains(status) else {
            throw ProviderFailure.from(status: status, body: text, retryAfter: retryAfter)
        }
        do {
            return try JSONValue.parse(Data(text.utf8))
        } catch {
            throw ProviderFailure(kind: .malformed, message: "the provider answered with a body that is not JSON: \(text.prefix(200))")
        }
    }

    /// `retry-after-ms` (OpenAI) wins over `retry-after` (seconds or an HTTP date).
    static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        if let milliseconds = headers.first(name: "retry-after-ms").flatMap(Double.init) {
            return .milliseconds(Int(milliseconds))
        }
        guard let value = headers.first(name: "retry-after") else { return nil }
        if let seconds = Double(value) { return .milliseconds(Int(seconds * 1000)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .milliseconds(Int(max(0, date.timeIntervalSinceNow) * 1000))
    }
}

/// OpenAI chat completions, also for any OpenAI-compatible server (vLLM, Ollama, llama.cpp).
struct OpenAIClient: ProviderClient {
    let baseURL: String
    let apiKey: Secret?
    let poster: JSONPoster

    func complete(_ request: CompletionRequest) async throws(ProviderFailure) -> Completion {
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
        let response = try await poster.post(url: baseURL + "/chat/completions", headers: headers, body: .object(body))
        guard let content = response["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue else {
            throw ProviderFailure(
                kind: .malformed, message: "the answer has no choices[0].message.content: \(response.jsonString().prefix(200))")
        }
        return Completion(
            content: content,
            tokensIn: Int(response["usage"]?["prompt_tokens"]?.numberValue ?? 0),
            tokensOut: Int(response["usage"]?["completion_tokens"]?.numberValue ?? 0)
        )
    }
}

/// Anthropic messages API.
struct AnthropicClient: ProviderClient {
    static let version = "2023-06-01"
    let baseURL: String
    let apiKey: Secret?
    let poster: JSONPoster

    func complete(_ request: CompletionRequest) async throws(ProviderFailure) -> Completion {
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
        let response = try await poster.post(url: baseURL + "/v1/messages", headers: headers, body: .object(body))
        let texts = response["content"]?.arrayValue?.filter { $0["type"] == "text" }.compactMap { $0["text"]?.stringValue }
        guard let texts, !texts.isEmpty else {
            throw ProviderFailure(kind: .malformed, message: "the answer has no text content: \(response.jsonString().prefix(200))")
        }
        return Completion(
            content: texts.joined(),
            tokensIn: Int(response["usage"]?["input_tokens"]?.numberValue ?? 0),
            tokensOut: Int(response["usage"]?["output_tokens"]?.numberValue ?? 0)
        )
    }
}
