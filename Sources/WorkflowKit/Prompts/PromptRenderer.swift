import Contracts
import Foundation
import Mustache

/// The messages sent to a model for one task.
public struct RenderedPrompt: Codable, Sendable, Equatable {
    public var system: String?
    public var user: String

    public init(system: String?, user: String) {
        self.system = system
        self.user = user
    }
}

/// Renders a stage's prompt with Mustache against the context of DESIGN.md §3.8 (`params`, `project`, `stage`,
/// `item`, `outputs`, `feedback`, `attempt`). Prompts are plain text, so nothing is HTML-escaped.
public enum PromptRenderer {
    /// Every message and partial starts as text, not HTML.
    private static let textPragma = "{{%CONTENT_TYPE:TEXT}}"

    public static func render(_ prompt: PromptDefinition, context: JSONValue) throws(PromptError) -> RenderedPrompt {
        var library = MustacheLibrary()
        for name in (prompt.partials ?? [:]).keys.sorted() {
            if let cycle = WorkflowValidator.inclusionCycle(from: name, in: prompt.partials ?? [:]) {
                throw PromptError(message: "partial '\(name)' includes itself (\(cycle.joined(separator: " → ")))")
            }
        }
        for (name, text) in prompt.partials ?? [:] {
            do {
                try library.register(textPragma + text, named: name)
            } catch {
                throw PromptError(message: "partial '\(name)' does not parse: \(error)")
            }
        }
        let values = context.foundationValue
        func render(_ text: String, _ part: String) throws(PromptError) -> String {
            do {
                return try MustacheTemplate(string: textPragma + text).render(values, library: library)
            } catch {
                throw PromptError(message: "the \(part) message does not parse: \(error)")
            }
        }
        return RenderedPrompt(
            system: try prompt.system.map { text throws(PromptError) in try render(text, "system") }, user: try render(prompt.user, "user"))
    }

    /// Checks that a template parses; the error says what is wrong.
    static func check(_ text: String) -> String? {
        do {
            _ = try MustacheTemplate(string: textPragma + text)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The names a template reads at its top level (outside sections, whose names are relative to their items),
    /// as dotted paths, and the partials it includes.
    static func references(in text: String) -> (variables: [String], partials: [String]) {
        var variables: [String] = []
        var partials: [String] = []
        var depth = 0
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            rest = rest[open.upperBound...]
            let triple = rest.hasPrefix("{")
            guard let close = rest.range(of: triple ? "}}}" : "}}") else { break }
            var tag = rest[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = rest[close.upperBound...]
            if triple { tag = String(tag.dropFirst()).trimmingCharacters(in: .whitespaces) }
            guard let sigil = tag.first else { continue }
            let name = String(tag.dropFirst()).trimmingCharacters(in: .whitespaces)
            switch sigil {
            case "!", "%", "=": continue
            case ">": partials.append(name)
            case "#", "^":
                if depth == 0 { variables.append(name) }
                depth += 1
            case "/": depth = max(0, depth - 1)
            case "&": if depth == 0 { variables.append(name) }
            default: if depth == 0, tag != "." { variables.append(tag) }
            }
        }
        return (variables, partials)
    }
}

/// A prompt that cannot be rendered.
public struct PromptError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
