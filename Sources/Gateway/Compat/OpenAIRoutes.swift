import Contracts
import Foundation
import HTTPTypes
import Hummingbird

/// `POST /v1/chat/completions` and `GET /v1/models` as OpenAI's API has them, so its client libraries work with the
/// base URL pointed here; refusals in OpenAI's error shape.
struct OpenAIRoutes {
    let interactive: Interactive

    func add(to group: RouterGroup<APIContext>) {
        group.post("chat/completions") { request, context in
            try await CompatDialect.openAI.answering { try await complete(request, context) }
        }
    }

    func models(_ caller: Identity) async throws -> Response {
        let models = try await interactive.models(as: caller)
        let data: [JSONValue] = models.map {
            ["id": .string($0.model), "object": "model", "created": 0, "owned_by": .string($0.provider)]
        }
        return try Self.json(["object": "list", "data": .array(data)])
    }

    private func complete(_ request: Request, _ context: APIContext) async throws -> Response {
        guard let caller = context.identity else {
            throw CompatFailure(.unauthenticated, "send your aiwf API key as 'Authorization: Bearer aiwf_…'")
        }
        var request = request
        let body = try await CompatBody.object(&request, context: context)
        let completion = try Self.completion(body)
        let created = Int(Date().timeIntervalSince1970)
        guard completion.stream else {
            let generated = try await interactive.generate(completion, as: caller)
            return try Self.json([
                "id": .string("chatcmpl-" + generated.requestID), "object": "chat.completion", "created": .number(Double(created)),
                "model": .string(generated.model),
                "choices": [
                    ["index": 0, "message": ["role": "assistant", "content": .string(generated.content)], "finish_reason": "stop"]
                ],
                "usage": Self.usage(generated),
            ])
        }
        let includeUsage = body["stream_options"]?["include_usage"] == true
        let id = "chatcmpl-" + UUID().uuidString.lowercased()
        let model = completion.model
        return CompatStream.response { send in
            let chunk = { @Sendable (delta: JSONValue, finish: JSONValue, usage: JSONValue?) -> String in
                Self.chunk(id: id, created: created, model: model, delta: delta, finish: finish, usage: usage)
            }
            send(chunk(["role": "assistant", "content": ""], .null, nil))
            do {
                let generated = try await interactive.generate(completion, as: caller) { text in
                    send(chunk(["content": .string(text)], .null, nil))
                }
                send(chunk([:], "stop", nil))
                if includeUsage { send(chunk([:], .null, Self.usage(generated))) }
            } catch let failure as CompatFailure {
                send("data: \(OpenAIErrors.body(failure).jsonString())\n\n")
            }
            send("data: [DONE]\n\n")
        }
    }

    /// The request in the shape both compatible APIs share; what OpenAI's API would refuse is refused here too.
    static func completion(_ body: JSONValue) throws -> Completion {
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            throw CompatFailure(.invalid, "you must provide a model parameter", parameter: "model")
        }
        guard let messages = body["messages"]?.arrayValue, !messages.isEmpty else {
            throw CompatFailure(.invalid, "'messages' must be a non-empty list of {role, content}", parameter: "messages")
        }
        var system: [String] = []
        var turns: [(role: String, text: String)] = []
        for (index, message) in messages.enumerated() {
            guard let role = message["role"]?.stringValue, let text = CompatBody.text(message["content"]) else {
                throw CompatFailure(.invalid, "messages[\(index)] needs a role and a text content", parameter: "messages[\(index)]")
            }
            if role == "system" || role == "developer" { system.append(text) } else { turns.append((role, text)) }
        }
        guard !turns.isEmpty else { throw CompatFailure(.invalid, "'messages' holds no user message", parameter: "messages") }
        let maxTokens = try CompatBody.integer(body["max_completion_tokens"] ?? body["max_tokens"], "max_tokens")
        var schema: JSONValue?
        if body["response_format"]?["type"] == "json_schema" { schema = body["response_format"]?["json_schema"]?["schema"] }
        return Completion(
            model: model, system: system.isEmpty ? nil : system.joined(separator: "\n\n"), user: CompatBody.transcript(turns),
            maxTokens: maxTokens, temperature: try CompatBody.number(body["temperature"], "temperature"), schema: schema,
            stream: body["stream"] == true)
    }

    /// One `chat.completion.chunk`; the usage chunk has no choices.
    static func chunk(id: String, created: Int, model: String, delta: JSONValue, finish: JSONValue, usage: JSONValue?) -> String {
        var object: [String: JSONValue] = [
            "id": .string(id), "object": "chat.completion.chunk", "created": .number(Double(created)), "model": .string(model),
            "choices": [["index": 0, "delta": delta, "finish_reason": finish]],
        ]
        if let usage {
            object["choices"] = []
            object["usage"] = usage
        }
        return "data: \(JSONValue.object(object).jsonString())\n\n"
    }

    static func usage(_ generated: ContentGenerated) -> JSONValue {
        [
            "prompt_tokens": .number(Double(generated.tokensIn)), "completion_tokens": .number(Double(generated.tokensOut)),
            "total_tokens": .number(Double(generated.tokensIn + generated.tokensOut)),
        ]
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: value.jsonString())))
    }
}

/// OpenAI's error shape: `{"error": {"message", "type", "param", "code"}}`.
enum OpenAIErrors {
    static func body(_ failure: CompatFailure) -> JSONValue {
        let (type, code): (String, String) =
            switch failure.kind {
            case .invalid: ("invalid_request_error", "invalid_value")
            case .unauthenticated: ("invalid_request_error", "invalid_api_key")
            case .notFound: ("invalid_request_error", "model_not_found")
            case .rateLimited: ("rate_limit_error", "rate_limit_exceeded")
            case .overloaded, .upstream, .timeout: ("server_error", "server_error")
            }
        return [
            "error": [
                "message": .string(failure.message), "type": .string(type), "param": failure.parameter.map { .string($0) } ?? .null,
                "code": .string(code),
            ]
        ]
    }
}

extension CompatFailure {
    /// The HTTP status both compatible APIs use for this kind.
    var status: HTTPResponse.Status {
        switch kind {
        case .invalid: .badRequest
        case .unauthenticated: .unauthorized
        case .notFound: .notFound
        case .rateLimited: .tooManyRequests
        case .overloaded: .serviceUnavailable
        case .upstream: .badGateway
        case .timeout: .gatewayTimeout
        }
    }

    /// An API error (a refusal of the Gateway itself, or a service that did not answer) in compatible terms.
    init(_ error: APIError) {
        let kind: Kind =
            switch error.status {
            case .unauthorized: .unauthenticated
            case .notFound: .notFound
            case .tooManyRequests: .rateLimited
            case .serviceUnavailable: .overloaded
            case .badRequest, .unprocessableContent, .contentTooLarge: .invalid
            default: .upstream
            }
        self.init(kind, error.message, retryAfter: error.retryAfter)
    }
}
