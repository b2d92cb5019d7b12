import Foundation

/// The one JSON coder for every message: sorted keys and ISO-8601 dates with fractional seconds.
public struct MessageCoder: Sendable {
    public init() {}

    /// Encodes a value as the JSON that goes on the wire.
    public func encode<Value: Encodable>(_ value: Value) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Self.dateStyle))
        }
        return try encoder.encode(value)
    }

    /// Decodes wire JSON; the error names the path of the field that failed.
    public func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = try? Self.dateStyle.parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "expected an ISO-8601 date such as 2026-01-31T12:00:00.000Z, got \(text)"
            )
        }
        return try decoder.decode(type, from: data)
    }

    private static let dateStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
