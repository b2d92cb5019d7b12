import Contracts
import Foundation
import WorkflowKit

/// The offline provider: answers from the prompt, and when a JSON schema is requested, with a valid instance whose
/// texts are derived from the request, so every workflow runs end to end without a network.
struct LocalProvider: ProviderClient {
    func complete(_ request: CompletionRequest, onText: TextSink?) async throws(ProviderFailure) -> Completion {
        let facts = Self.facts(in: request.user)
        let content: String
        if let schema = request.responseSchema {
            var generator = InstanceGenerator(facts: facts, topic: Self.topic(of: request.user))
            let value = generator.instance(of: schema, name: "answer")
            content = value.jsonString()
        } else {
            content = Self.prose(facts: facts, topic: Self.topic(of: request.user))
        }
        if let onText {
            for piece in Self.pieces(of: content) { await onText(piece) }
        }
        return Completion(
            content: content,
            tokensIn: Self.estimateTokens((request.system ?? "") + request.user),
            tokensOut: Self.estimateTokens(content)
        )
    }

    /// The answer cut after every few words, as a provider streams it.
    static func pieces(of content: String, wordsPerPiece: Int = 4) -> [String] {
        var pieces: [String] = []
        var current = ""
        var words = 0
        for character in content {
            current.append(character)
            if character == " " || character == "\n" {
                words += 1
                if words == wordsPerPiece {
                    pieces.append(current)
                    (current, words) = ("", 0)
                }
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    /// About four characters a token, as the providers' tokenizers average on English text.
    static func estimateTokens(_ text: String) -> Int {
        max(1, text.utf8.count / 4)
    }

    /// `Label: value` lines of the prompt, which carry the project's own words.
    static func facts(in prompt: String) -> [(label: String, value: String)] {
        prompt.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[1].isEmpty, parts[0].count < 60, !parts[0].hasPrefix("-") else { return nil }
            return (parts[0], parts[1])
        }
    }

    /// The first sentence of the prompt, shortened: what the request is about.
    static func topic(of prompt: String) -> String {
        let first = prompt.split(separator: "\n").first.map(String.init) ?? prompt
        return String(first.prefix(160)).trimmingCharacters(in: .whitespaces)
    }

    private static func prose(facts: [(label: String, value: String)], topic: String) -> String {
        var lines = ["# \(topic.trimmingCharacters(in: CharacterSet(charactersIn: ".")))", ""]
        if facts.isEmpty {
            lines.append("This draft was written offline by the local provider. It restates the request so the workflow can continue.")
        }
        for fact in facts.prefix(8) {
            lines.append("- **\(fact.label)**: \(fact.value)")
        }
        lines.append("")
        lines.append("Replace this draft with a real provider in providers.yaml for production-quality text.")
        return lines.joined(separator: "\n")
    }
}

/// Builds a value that satisfies a schema of the supported subset, filling texts from the request.
struct InstanceGenerator {
    let facts: [(label: String, value: String)]
    let topic: String
    private var counter = 0

    init(facts: [(label: String, value: String)], topic: String) {
        self.facts = facts
        self.topic = topic
    }

    /// Bounds on what a schema (which comes from outside) may make this write: list lengths, text lengths, nesting.
    static let maximumItems = 50
    static let maximumTextLength = 20_000
    static let maximumDepth = 32

    /// A count a schema asks for, held within `0...limit`; numbers out of range or not whole never trap.
    static func count(_ value: JSONValue?, default fallback: Int, limit: Int) -> Int {
        guard let number = value?.numberValue, number.isFinite else { return fallback }
        return Int(number.clamped(to: 0...Double(limit)))
    }

    mutating func instance(of schema: JSONValue, name: String, depth: Int = 0) -> JSONValue {
        guard depth < Self.maximumDepth else { return .null }
        counter += 1
        if let constant = schema["const"] { return constant }
        if let options = schema["enum"]?.arrayValue, let first = options.first { return first }
        let type = schema["type"]?.stringValue ?? schema["type"]?.arrayValue?.first?.stringValue ?? "string"
        switch type {
        case "object":
            var members: [String: JSONValue] = [:]
            for (key, subschema) in (schema["properties"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                members[key] = instance(of: subschema, name: key, depth: depth + 1)
            }
            return .object(members)
        case "array":
            let minimum = Self.count(schema["minItems"], default: 1, limit: Self.maximumItems)
            let maximum = Self.count(schema["maxItems"], default: 3, limit: Self.maximumItems)
            let count = min(max(minimum, min(3, maximum)), maximum)
            var items: [JSONValue] = []
            for index in 0..<count {
                items.append(
                    instance(of: schema["items"] ?? ["type": "string"], name: "\(singular(name)) \(index + 1)", depth: depth + 1))
            }
            return .array(items)
        case "integer", "number":
            let minimum = schema["minimum"]?.numberValue ?? 1
            let maximum = schema["maximum"]?.numberValue ?? max(minimum, 100)
            let value = min(max(minimum, Double(counter % 10 + 1)), maximum)
            return .number(type == "integer" ? value.rounded(.down) : value)
        case "boolean":
            return .bool(true)
        case "null":
            return .null
        default:
            return .string(text(for: schema, name: name))
        }
    }

    private func text(for schema: JSONValue, name: String) -> String {
        let minimum = Self.count(schema["minLength"], default: 0, limit: Self.maximumTextLength)
        let maximum = Self.count(schema["maxLength"], default: 2_000, limit: Self.maximumTextLength)
        if let pattern = schema["pattern"]?.stringValue {
            return patterned(pattern, name: name, maximum: maximum)
        }
        let label = name.replacingOccurrences(of: "_", with: " ")
        let fact = facts.isEmpty ? topic : facts[counter % facts.count].value
        var text = "\(label.prefix(1).uppercased() + label.dropFirst()): \(fact)"
        while text.count < minimum { text += " " + "This section expands on \(topic.lowercased()) with details for the reader." }
        return String(text.prefix(maximum))
    }

    /// A value for the patterns templates use (colours, slugs, identifiers), checked against the pattern.
    private func patterned(_ pattern: String, name: String, maximum: Int) -> String {
        let slug = name.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
        let identifier = "q_" + name.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
        let palette = ["#1f3a5f", "#3d7ea6", "#f2a541", "#fafafa", "#222222"]
        let candidates = [palette[counter % palette.count], slug, identifier, identifier.replacingOccurrences(of: "_", with: ""), "", "a"]
        let expression = try? NSRegularExpression(pattern: pattern)
        for candidate in candidates where candidate.count <= maximum {
            if expression?.firstMatch(in: candidate, range: NSRange(candidate.startIndex..., in: candidate)) != nil { return candidate }
        }
        return String(slug.prefix(maximum))
    }

    private func singular(_ name: String) -> String {
        name.hasSuffix("s") ? String(name.dropLast()) : name
    }
}
