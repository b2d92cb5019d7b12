import Foundation
import Ink

/// Model text (Markdown) to safe HTML, and the small text helpers the builders share.
public enum Markup {
    /// `markdown` as a sanitised HTML fragment whose largest heading is `topHeading`.
    public static func html(fromMarkdown markdown: String, topHeading: Int = 2, selfContained: Bool = false) -> String {
        let converted = MarkdownParser().html(from: markdown)
        return HTMLSanitizer(topHeading: topHeading, selfContained: selfContained).sanitize(converted)
    }

    /// A URL-safe name: lower-case letters, digits and single hyphens.
    public static func slug(_ text: String, fallback: String = "page") -> String {
        var slug = ""
        for character in text.lowercased().folding(options: .diacriticInsensitive, locale: nil) {
            if character.isASCII && (character.isLetter || character.isNumber) {
                slug.append(character)
            } else if !slug.isEmpty && slug.last != "-" {
                slug.append("-")
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        return slug.isEmpty ? fallback : String(slug.prefix(60))
    }

    /// The text of `markdown` without its markup, for descriptions and plain-text copies.
    public static func plainText(_ markdown: String) -> String {
        let html = html(fromMarkdown: markdown)
        var tokens = HTMLTokenizer(html)
        var text = ""
        while let token = tokens.next() {
            switch token {
            case .text(let piece): text += piece
            case .start, .end: text += " "
            }
        }
        return text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
