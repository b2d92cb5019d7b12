/// Turns untrusted HTML (a model's Markdown after conversion) into a balanced fragment of allow-listed elements and
/// attributes, serialised so it is both valid HTML5 and well-formed XHTML (an EPUB's chapters are XML).
///
/// Nothing executable survives: elements outside the list are dropped (and the contents of `script`, `style` and
/// the like with them), event-handler and style attributes never pass, and a URL passes only when it is relative or
/// `http`, `https`, `mailto` or `tel`, after entities and control characters are taken out of it.
public struct HTMLSanitizer: Sendable {
    /// The largest heading a fragment may use: a page's own title is its `h1`.
    public var topHeading = 2
    /// For a self-contained document (an EPUB chapter): no images and no links but absolute `http(s)`/`mailto`
    /// ones, since anything else would point at a file the book does not hold.
    public var selfContained = false

    public init(topHeading: Int = 2, selfContained: Bool = false) {
        self.topHeading = topHeading
        self.selfContained = selfContained
    }

    /// Elements kept, each with the attributes it may carry.
    static let allowed: [String: Set<String>] = [
        "p": [], "br": [], "hr": [], "h1": [], "h2": [], "h3": [], "h4": [], "h5": [], "h6": [],
        "ul": [], "ol": ["start"], "li": [], "blockquote": [], "pre": [], "code": [],
        "strong": [], "b": [], "em": [], "i": [], "del": [], "s": [], "sub": [], "sup": [], "small": [], "mark": [],
        "a": ["href", "title"], "img": ["src", "alt", "title", "width", "height"],
        "table": [], "thead": [], "tbody": [], "tr": [], "th": [], "td": [],
    ]
    static let void: Set<String> = ["br", "hr", "img"]
    /// Elements that hold flow content: block elements may open inside them.
    static let flowContainers: Set<String> = ["li", "blockquote", "td", "th"]
    /// Table parts, each kept only inside the part that holds it.
    static let tableParents: [String: Set<String>] = [
        "thead": ["table"], "tbody": ["table"], "tr": ["table", "thead", "tbody"], "td": ["tr"], "th": ["tr"],
    ]
    /// Where only table parts may open and no text may stand (a parser would move it out of the table).
    static let tableStructure: Set<String> = ["table", "thead", "tbody", "tr"]
    static let blocks: Set<String> = [
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "hr", "table",
    ]
    /// Elements dropped with everything inside them.
    static let dropWithContents: Set<String> = [
        "script", "style", "template", "textarea", "title", "iframe", "object", "embed", "noscript", "noembed",
        "noframes", "xmp", "svg", "math", "select", "applet", "frameset", "head", "plaintext",
    ]
    static let safeSchemes: Set<String> = ["http", "https", "mailto", "tel"]

    /// The sanitised fragment of `html`.
    public func sanitize(_ html: String) -> String {
        var writer = Writer(topHeading: topHeading)
        var tokens = HTMLTokenizer(html)
        var skipping: (name: String, depth: Int)?
        while let token = tokens.next() {
            if var skip = skipping {
                switch token {
                case .start(let name, _, let selfClosing) where name == skip.name && !selfClosing: skip.depth += 1
                case .end(let name) where name == skip.name: skip.depth -= 1
                default: break
                }
                skipping = skip.depth == 0 ? nil : skip
                continue
            }
            switch token {
            case .text(let text):
                writer.text(text)
            case .start(let name, let attributes, let selfClosing):
                if Self.dropWithContents.contains(name) {
                    if !selfClosing { skipping = (name, 1) }
                    if HTMLTokenizer.rawText.contains(name) {
                        tokens.skipRawText(until: name)
                        skipping = nil
                    }
                } else if let permitted = Self.allowed[name], !(selfContained && name == "img") {
                    var kept = Self.clean(attributes, element: name, permitted: permitted)
                    if selfContained { kept.removeAll { $0.0 == "href" && !Self.isAbsolute($0.1) } }
                    writer.open(name, attributes: kept)
                }
            case .end(let name):
                if Self.allowed[name] != nil { writer.close(name) }
            }
        }
        return writer.finish()
    }

    static func clean(_ attributes: [(String, String)], element: String, permitted: Set<String>) -> [(String, String)] {
        var kept: [(String, String)] = []
        for (name, value) in attributes where permitted.contains(name) && !kept.contains(where: { $0.0 == name }) {
            switch name {
            case "href", "src":
                guard let url = safeURL(value) else { continue }
                kept.append((name, url))
            case "width", "height", "start":
                guard !value.isEmpty, value.count < 6, value.allSatisfy(\.isNumber) else { continue }
                kept.append((name, value))
            default:
                kept.append((name, value))
            }
        }
        if element == "img" && !kept.contains(where: { $0.0 == "alt" }) { kept.append(("alt", "")) }
        if element == "img" && !kept.contains(where: { $0.0 == "src" }) { return [] }
        return kept
    }

    /// `value` when it is a URL that runs nothing: relative, a fragment, or one of the safe schemes.
    public static func safeURL(_ value: String) -> String? {
        let cleaned = String(value.unicodeScalars.filter { $0.value > 0x20 && $0.value != 0x7F })
        guard !cleaned.isEmpty else { return nil }
        if let colon = cleaned.firstIndex(of: ":") {
            let beforeColon = cleaned[..<colon]
            let isScheme = !beforeColon.contains("/") && !beforeColon.contains("?") && !beforeColon.contains("#")
            if isScheme && !safeSchemes.contains(beforeColon.lowercased()) { return nil }
        }
        return cleaned.hasPrefix("//") ? "https:" + cleaned : cleaned
    }

    static func isAbsolute(_ url: String) -> Bool {
        let lower = url.lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("mailto:")
    }

    /// Builds the output, keeping the element stack balanced and the content model one that parses without error.
    struct Writer {
        let topHeading: Int
        var output = ""
        var stack: [String] = []

        mutating func text(_ text: String) {
            if let top = stack.last, HTMLSanitizer.tableStructure.contains(top), !text.allSatisfy(\.isWhitespace) { return }
            output += HTML.escape(text)
        }

        mutating func open(_ rawName: String, attributes: [(String, String)]) {
            let name = heading(rawName)
            if let parents = HTMLSanitizer.tableParents[name] {
                // Inside the innermost table only; a new cell or row closes the one before it.
                let table = stack.lastIndex(of: "table") ?? -1
                guard table >= 0, let open = stack.lastIndex(where: { parents.contains($0) }), open >= table else { return }
                while stack.count > open + 1 { output += "</\(stack.removeLast())>" }
            } else if let top = stack.last, HTMLSanitizer.tableStructure.contains(top), name != "table" {
                return
            } else if name == "li" {
                // A list item outside a list reads as a paragraph.
                guard let list = nearestList() else { return open("p", attributes: []) }
                while stack.count > list + 1 { output += "</\(stack.removeLast())>" }
            } else if Self.isBlock(name) {
                closeInlineContext()
            }
            if name == "a" && stack.contains("a") { close("a") }
            var tag = "<" + name
            for (key, value) in attributes { tag += " \(key)=\"\(HTML.escape(value, quotes: true))\"" }
            if HTMLSanitizer.void.contains(name) {
                output += tag + " />"
            } else {
                output += tag + ">"
                stack.append(name)
            }
        }

        mutating func close(_ rawName: String) {
            let name = heading(rawName)
            guard let index = stack.lastIndex(of: name) else { return }
            while stack.count > index { output += "</\(stack.removeLast())>" }
        }

        mutating func finish() -> String {
            while let name = stack.popLast() { output += "</\(name)>" }
            return output
        }

        /// Closes what a block may not open inside (a paragraph, a heading, inline elements) up to the nearest
        /// element that holds flow content; a block straight inside a list goes into an item of its own.
        private mutating func closeInlineContext() {
            while let top = stack.last {
                if HTMLSanitizer.flowContainers.contains(top) { return }
                if top == "ul" || top == "ol" {
                    output += "<li>"
                    stack.append("li")
                    return
                }
                output += "</\(stack.removeLast())>"
            }
        }

        /// The index of the list a new item belongs to: the innermost `ul`/`ol` with no flow container inside it.
        private func nearestList() -> Int? {
            for index in stack.indices.reversed() {
                if stack[index] == "ul" || stack[index] == "ol" { return index }
                if HTMLSanitizer.flowContainers.contains(stack[index]) && stack[index] != "li" { return nil }
            }
            return nil
        }

        private static func isBlock(_ name: String) -> Bool { HTMLSanitizer.blocks.contains(name) }

        private func heading(_ name: String) -> String {
            guard name.count == 2, name.first == "h", let level = Int(name.dropFirst()) else { return name }
            return "h\(min(max(level, topHeading), 4))"
        }
    }
}
