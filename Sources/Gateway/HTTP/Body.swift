import Contracts
import Foundation
import Hummingbird

/// A request body the API takes, with the fields it knows: any other is refused, since it would hide a typo.
protocol APIBody: Decodable {
    static var fields: Set<String> { get }
}

extension Request {
    /// The body as `T`: malformed JSON is a 400; unknown fields, missing ones and wrong types a 422 naming each by
    /// its JSON pointer.
    mutating func decodeBody<T: APIBody>(as type: T.Type, context: APIContext) async throws -> T {
        let buffer = try await collectBody(upTo: context.maxUploadSize)
        let data = Data(buffer: buffer)
        guard !data.isEmpty else { throw APIError.badRequest("send a JSON object as the body") }
        guard let value = try? JSONValue.parse(data) else { throw APIError.badRequest("the body is not valid JSON") }
        guard case .object(let object) = value else { throw APIError.badRequest("the body must be a JSON object") }
        let unknown = object.keys.filter { !T.fields.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw APIError.invalid(
                "the body has fields this route does not know",
                details: unknown.map {
                    .init(pointer: "/\($0)", message: "unknown field; known: \(T.fields.sorted().joined(separator: ", "))")
                })
        }
        do {
            return try JSONDecoder.api.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw APIError.invalid("the body does not match what this route takes", details: [Self.detail(error)])
        }
    }

    /// The raw body as text (YAML uploads).
    mutating func bodyText(context: APIContext) async throws -> String {
        let buffer = try await collectBody(upTo: context.maxUploadSize)
        guard let text = String(data: Data(buffer: buffer), encoding: .utf8) else {
            throw APIError.badRequest("the body is not UTF-8 text")
        }
        return text
    }

    private static func detail(_ error: DecodingError) -> APIError.Detail {
        func pointer(_ path: [any CodingKey]) -> String {
            "/" + path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: "/")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return .init(pointer: pointer(context.codingPath + [key]), message: "is required")
        case .typeMismatch(let type, let context):
            return .init(pointer: pointer(context.codingPath), message: "must be \(Self.describe(type))")
        case .valueNotFound(let type, let context):
            return .init(pointer: pointer(context.codingPath), message: "must be \(Self.describe(type)), not null")
        case .dataCorrupted(let context):
            return .init(pointer: pointer(context.codingPath), message: context.debugDescription)
        @unknown default:
            return .init(pointer: "", message: "\(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default: "\(type)".contains("Dictionary") ? "an object" : "\(type)".contains("Array") ? "a list" : "a \(type)"
        }
    }
}

extension JSONEncoder {
    /// How the API writes JSON: ISO 8601 dates, keys in a stable order.
    static let api: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}

extension JSONDecoder {
    static let api: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}

/// A JSON response with the API's encoding.
struct JSONResponse<Value: Encodable & Sendable>: ResponseGenerator {
    var status: HTTPResponse.Status = .ok
    var headers: HTTPFields = [:]
    let value: Value

    init(_ value: Value, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) {
        self.value = value
        self.status = status
        self.headers = headers
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder.api.encode(value))))
    }
}
