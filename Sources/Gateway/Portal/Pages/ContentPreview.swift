import Contracts
import Deliverables
import Foundation
import WorkflowKit

/// A task's content as a person reads it, not as JSON: a heading from its title, Markdown text as formatted text,
/// lists as lists, colours as swatches, the other fields by their names in words. The result is HTML built only
/// from escaped text and the sanitiser's output, so a model's answer cannot put a script or a form on the page.
enum ContentPreview {
    static func html(_ content: String) -> String {
        if let value = try? JSONValue.parse(Data(content.utf8)) {
            switch value {
            case .object, .array: return render(value, depth: 0)
            default: break
            }
        }
        return Markup.html(fromMarkdown: content, topHeading: 3)
    }

    /// Keys shown as the heading of their object, in this order of preference.
    private static let headingKeys = ["title", "heading", "name", "question"]

    private static func render(_ value: JSONValue, depth: Int) -> String {
        switch value {
        case .null: return ""
        case .bool(let flag): return flag ? "Yes" : "No"
        case .number: return HTML.escape(ParameterField.text(of: value))
        case .string(let text): return string(text)
        case .array(let items):
            guard depth < 6 else { return "…" }
            if items.allSatisfy(\.isScalar) {
                return "<ul>" + items.map { "<li>\(render($0, depth: depth + 1))</li>" }.joined() + "</ul>"
            }
            return items.map { "<section class=\"preview-item\">\(render($0, depth: depth + 1))</section>" }.joined()
        case .object(let members):
            guard depth < 6 else { return "…" }
            var html = ""
            let heading = headingKeys.first { members[$0]?.stringValue != nil }
            if let heading, let text = members[heading]?.stringValue {
                let level = min(6, 3 + depth)
                html += "<h\(level)>\(HTML.escape(text))</h\(level)>"
            }
            let rest = members.filter { $0.key != heading && $0.value != .null }.sorted { $0.key < $1.key }
            guard !rest.isEmpty else { return html }
            html += "<dl class=\"preview-fields\">"
            for (key, member) in rest {
                html += "<dt>\(HTML.escape(Wording.words(key)))</dt><dd>\(render(member, depth: depth + 1))</dd>"
            }
            return html + "</dl>"
        }
    }

    private static func string(_ text: String) -> String {
        if let colour = Colour(hex: text), text.hasPrefix("#") {
            // The page's policy forbids inline styles; an image of the colour is allowed.
            let svg = "<svg xmlns='http://www.w3.org/2000/svg' width='16' height='16'><rect width='16' height='16' fill='\(colour)'/></svg>"
            let source = "data:image/svg+xml," + (svg.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            return "<img class=\"swatch\" alt=\"\" src=\"\(source)\" width=\"16\" height=\"16\"> <code>\(HTML.escape(text))</code>"
        }
        guard text.contains("\n") || text.count > 160 else { return HTML.escape(text) }
        return Markup.html(fromMarkdown: text, topHeading: 4)
    }
}

extension JSONValue {
    fileprivate var isScalar: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }
}
