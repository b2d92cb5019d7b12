import Contracts
import Foundation
import HTTPTypes
import Hummingbird

/// `POST /v1/messages` (and `GET /v1/models` when asked with `anthropic-version`) as Anthropic's API has them, so
/// its client libraries work with the base URL pointed here; refusals in Anthropic's error shape.
struct AnthropicRoutes {
    let interactive: Interactive

    func add(to group: RouterGroup<APIContext>) {
        group.post("messages") { request, context in
            try await CompatDialect.anthropic.answering { try await message(request, context) }
        }
    }

    func models(_ caller: Identity) async throws -> Response {
        let models = try await interactive.models(as: caller)
        let data: [JSONValue] = models.map {
            [
                "type": "model", "id": .string($0.model), "display_name": .string("\($0.provider)/\($0.model)"),
                "created_at": "1970-01-01T00:00:00Z",
            ]
        }
        return try OpenAIRoutes.json([
            "data": .array(data), "has_more": false, "first_id": data.first?["id"] ?? .null, "last_id": data.last?["id"] ?? .null,
        ])
    }

    private func message(_ request: Request, _ context: APIContext) async throws -> Response {
        guard let caller = context.identity else { throw CompatFailure(.unauthenticated, "send your aiwf API key as 'x-api-key'") }
        var request = request
        let body = try await CompatBody.object(&request, context: context)
        let completion = try Self.completion(body)
        let id = "msg_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        guard completion.stream else {
            let generated = try await interactive.generate(completion, as: caller)
            return try OpenAIRoutes.json([
                "id": .string(id), "type": "message", "role": "assistant", "model": .string(completion.model),
                "content": [["type": "text", "text": .string(generated.content)]], "stop_reason": "end_turn", "stop_sequence": .null,
                "usage": ["input_tokens": .number(Double(generated.tokensIn)), "output_tokens": .number(Double(generated.tokensOut))],
            ])
        }
        let model = completion.model
        return CompatStream.response { send in
            send(
                Self.event(
                    "message_start",
                    [
                        "message": [
                            "id": .string(id), "type": "message", "role": "assistant", "model": .string(model), "content": [],
                            "stop_reason": .null, "stop_sequence": .null, "usage": ["input_tokens": 0, "output_tokens": 0],
                        ]
                    ]))
            send(Self.event("content_block_start", ["index": 0, "content_block": ["type": "text", "text": ""]]))
            do {
                let generated = try await interactive.generate(completion, as: caller) { text in
                    send(Self.event("content_block_delta", ["index": 0, "delta": ["type": "text_delta", "text": .string(text)]]))
                }
                send(Self.event("content_block_stop", ["index": 0]))
                send(
                    Self.event(
                        "message_delta",
                        [
                            "delta": ["stop_reason": "end_turn", "stop_sequence": .null],
                            "usage": ["output_tokens": .number(Double(generated.tokensOut))],
                        ]))
                send(Self.event("message_stop", [:]))
            } catch let failure as CompatFailure {
                send(Self.event("error", ["error": Self.error(failure)]))
            }
        }
    }

    /// One server-sent event of Anthropic's stream.
    static func event(_ type: String, _ fields: [String: JSONValue]) -> String {
        var fields = fields
        fields["type"] = .string(type)
        return "event: \(type)\ndata: \(JSONValue.object(fields).jsonString())\n\n"
    }

    static func completion(_ body: JSONValue) throws -> Completion {
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            throw CompatFailure(.invalid, "model: Field required", parameter: "model")
        }
        guard let maxTokens = try CompatBody.integer(body["max_tokens"], "max_tokens") else {
            throw CompatFailure(.invalid, "max_tokens: Field required", parameter: "max_tokens")
        }
        guard let messages = body["messages"]?.arrayValue, !messages.isEmpty else {
            throw CompatFailure(.invalid, "messages: at least one message is required", parameter: "messages")
        }
        var turns: [(role: String, text: String)] = []
        for (index, message) in messages.enumerated() {
            guard let role = message["role"]?.stringValue, role == "user" || role == "assistant",
                let text = CompatBody.text(message["content"])
            else {
                throw CompatFailure(.invalid, "messages.\(index): a role of user or assistant and a text content", parameter: "messages")
            }
            turns.append((role, text))
        }
        return Completion(
            model: model, system: CompatBody.text(body["system"]), user: CompatBody.transcript(turns), maxTokens: maxTokens,
            temperature: try CompatBody.number(body["temperature"], "temperature"), schema: nil, stream: body["stream"] == true)
    }

    static func error(_ failure: CompatFailure) -> JSONValue {
        let type: String =
            switch failure.kind {
            case .invalid: "invalid_request_error"
            case .unauthenticated: "authentication_error"
            case .notFound: "not_found_error"
            case .rateLimited: "rate_limit_error"
            case .overloaded: "overloaded_error"
            case .upstream, .timeout: "api_error"
            }
        return ["type": .string(type), "message": .string(failure.message)]
    }
}

/// `GET /v1/models` in the shape of whichever API the client speaks (Anthropic's clients send `anthropic-version`).
struct CompatModelsRoute {
    let openAI: OpenAIRoutes
    let anthropic: AnthropicRoutes

    func add(to group: RouterGroup<APIContext>) {
        group.get("models") { request, context in
            let dialect = CompatDialect(request)
            return try await dialect.answering {
                guard let caller = context.identity else { throw CompatFailure(.unauthenticated, "send your aiwf API key") }
                return dialect == .anthropic ? try await anthropic.models(caller) : try await openAI.models(caller)
            }
        }
    }
}
