import Contracts
import Foundation
import Hummingbird

/// Reading the bodies of the compatible APIs: their clients send fields this Gateway does not use (`n`, `user`,
/// `metadata`, …), so unknown fields are let through, unlike in `/api/v1`.
enum CompatBody {
    static func object(_ request: inout Request, context: APIContext) async throws -> JSONValue {
        let data: Data
        do {
            data = Data(buffer: try await request.collectBody(upTo: context.maxUploadSize))
        } catch {
            throw CompatFailure(.invalid, "the body is larger than 1 MiB")
        }
        guard let value = try? JSONValue.parse(data), case .object = value else {
            throw CompatFailure(.invalid, "the body must be a JSON object")
        }
        return value
    }

    /// A message's content: a string, or a list of `{type: "text", text}` blocks.
    static func text(_ content: JSONValue?) -> String? {
        if let text = content?.stringValue { return text }
        guard let blocks = content?.arrayValue else { return nil }
        let texts = blocks.compactMap { $0["type"] == "text" ? $0["text"]?.stringValue : nil }
        return texts.isEmpty ? nil : texts.joined(separator: "\n")
    }

    /// One user message as it is; a conversation as a transcript the model continues.
    static func transcript(_ turns: [(role: String, text: String)]) -> String {
        if turns.count == 1 { return turns[0].text }
        return turns.map { "\($0.role == "assistant" ? "Assistant" : "User"): \($0.text)" }.joined(separator: "\n\n") + "\n\nAssistant:"
    }

    static func integer(_ value: JSONValue?, _ name: String) throws -> Int? {
        guard let value, value != .null else { return nil }
        guard case .number(let number) = value, number == number.rounded(), number >= 1, number <= 1_000_000 else {
            throw CompatFailure(.invalid, "'\(name)' must be a whole number from 1", parameter: name)
        }
        return Int(number)
    }

    static func number(_ value: JSONValue?, _ name: String) throws -> Double? {
        guard let value, value != .null else { return nil }
        guard case .number(let number) = value, number.isFinite else {
            throw CompatFailure(.invalid, "'\(name)' must be a number", parameter: name)
        }
        return number
    }
}

/// A server-sent event stream written as the generation goes: `produce` runs in a task of its own and hands over
/// text, which is written in order; a client that goes away cancels it.
enum CompatStream {
    static func response(_ produce: @escaping @Sendable (_ send: @escaping @Sendable (String) -> Void) async throws -> Void) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                let (texts, continuation) = AsyncStream.makeStream(of: String.self)
                let producer = Task {
                    try? await produce { continuation.yield($0) }
                    continuation.finish()
                }
                defer { producer.cancel() }
                for await text in texts { try await writer.write(ByteBuffer(string: text)) }
                try await writer.finish(nil)
            })
    }
}
