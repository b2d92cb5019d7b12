/// A forgiving HTML tokenizer for the sanitiser: start tags with their attributes, end tags and text (entities
/// decoded). Comments, doctypes and processing instructions are skipped; a `<` that starts no tag is text.
struct HTMLTokenizer {
    enum Token {
        case text(String)
        case start(String, [(String, String)], selfClosing: Bool)
        case end(String)
    }

    /// Elements whose contents are raw text up to their end tag.
    static let rawText: Set<String> = ["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript"]

    private let scalars: [Unicode.Scalar]
    private var position = 0

    init(_ html: String) {
        scalars = Array(html.unicodeScalars)
    }

    mutating func next() -> Token? {
        guard position < scalars.count else { return nil }
        if scalars[position] == "<", let token = tag() { return token }
        var text = String.UnicodeScalarView()
        if scalars[position] == "<" {
            text.append("<")
            position += 1
        }
        while position < scalars.count, scalars[position] != "<" {
            text.append(scalars[position])
            position += 1
        }
        return .text(Self.decode(String(text)))
    }

    /// Moves past the raw text of `name` and its end tag.
    mutating func skipRawText(until name: String) {
        let closing = Array("</\(name)".unicodeScalars)
        while position < scalars.count {
            if scalars[position] == "<", position + closing.count <= scalars.count,
                zip(scalars[position..<position + closing.count], closing).allSatisfy({ Self.lower($0) == $1 })
            {
                position += closing.count
                while position < scalars.count, scalars[position] != ">" { position += 1 }
                position += 1
                return
            }
            position += 1
        }
    }

    /// The tag at `position` (a `<`), or nil when what follows starts no tag (position unchanged).
    private mutating func tag() -> Token? {
        let start = position
        var index = position + 1
        guard index < scalars.count else { return nil }
        if scalars[index] == "!" || scalars[index] == "?" {
            let isComment = index + 2 < scalars.count && scalars[index + 1] == "-" && scalars[index + 2] == "-"
            position = isComment ? skipComment(from: index + 3) : skip(past: ">", from: index)
            return .text("")
        }
        let closing = scalars[index] == "/"
        if closing { index += 1 }
        guard index < scalars.count, scalars[index].properties.isAlphabetic, scalars[index].isASCII else { return nil }
        var name = ""
        while index < scalars.count, isNameScalar(scalars[index]) {
            name.unicodeScalars.append(Self.lower(scalars[index]))
            index += 1
        }
        var attributes: [(String, String)] = []
        var selfClosing = false
        while index < scalars.count, scalars[index] != ">" {
            let scalar = scalars[index]
            if scalar == "/" {
                selfClosing = true
                index += 1
                continue
            }
            if isSpace(scalar) {
                index += 1
                continue
            }
            selfClosing = false
            var key = ""
            while index < scalars.count, !isSpace(scalars[index]), scalars[index] != "=", scalars[index] != ">",
                scalars[index] != "/" || key.isEmpty
            {
                key.unicodeScalars.append(Self.lower(scalars[index]))
                index += 1
            }
            while index < scalars.count, isSpace(scalars[index]) { index += 1 }
            var value = ""
            if index < scalars.count, scalars[index] == "=" {
                index += 1
                while index < scalars.count, isSpace(scalars[index]) { index += 1 }
                if index < scalars.count, scalars[index] == "\"" || scalars[index] == "'" {
                    let quote = scalars[index]
                    index += 1
                    while index < scalars.count, scalars[index] != quote {
                        value.unicodeScalars.append(scalars[index])
                        index += 1
                    }
                    index += 1
                } else {
                    while index < scalars.count, !isSpace(scalars[index]), scalars[index] != ">" {
                        value.unicodeScalars.append(scalars[index])
                        index += 1
                    }
                }
            }
            if !key.isEmpty { attributes.append((key, Self.decode(value))) }
        }
        guard index <= scalars.count else {
            position = start
            return nil
        }
        position = min(index + 1, scalars.count)
        return closing ? .end(name) : .start(name, attributes, selfClosing: selfClosing)
    }

    private func skipComment(from index: Int) -> Int {
        var index = index
        while index + 2 < scalars.count {
            if scalars[index] == "-" && scalars[index + 1] == "-" && scalars[index + 2] == ">" { return index + 3 }
            index += 1
        }
        return scalars.count
    }

    private func skip(past terminator: Unicode.Scalar, from index: Int) -> Int {
        var index = index
        while index < scalars.count, scalars[index] != terminator { index += 1 }
        return min(index + 1, scalars.count)
    }

    private func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-")
    }

    private func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\n" || scalar == "\t" || scalar == "\r" || scalar == "\u{0C}"
    }

    static func lower(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        ("A"..."Z").contains(scalar) ? Unicode.Scalar(scalar.value + 32)! : scalar
    }

    static let namedEntities: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}", "colon": ":", "tab": "\t",
        "newline": "\n", "lpar": "(", "rpar": ")", "sol": "/", "period": ".", "comma": ",", "hellip": "…",
        "mdash": "—", "ndash": "–", "rsquo": "’", "lsquo": "‘", "rdquo": "”", "ldquo": "“", "copy": "©",
    ]

    /// `text` with character references decoded; an unknown or malformed one stays as written (and is escaped on
    /// output). Numeric references to control characters or surrogates become U+FFFD.
    static func decode(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            let end = after.firstIndex(where: { !($0.isLetter || $0.isNumber || $0 == "#") }) ?? after.endIndex
            let name = after[..<end]
            let terminated = end < after.endIndex && after[end] == ";"
            var decoded: String?
            if name.hasPrefix("#") {
                let digits = name.dropFirst()
                let value =
                    digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
                if let value {
                    let scalar = Unicode.Scalar(value).flatMap { $0.value < 0x20 && $0 != "\n" && $0 != "\t" ? nil : $0 }
                    decoded = String(Character(scalar ?? "\u{FFFD}"))
                }
            } else {
                decoded = namedEntities[String(name).lowercased()]
            }
            if let decoded {
                result += decoded
                rest = terminated ? after[after.index(after: end)...] : after[end...]
            } else {
                result += "&"
                rest = after
            }
        }
        return result + rest
    }
}

/// Escaping for text and attribute values, valid in HTML and in XML alike.
public enum HTML {
    public static func escape(_ text: String, quotes: Bool = false) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"" where quotes: result += "&quot;"
            case "\u{0}"..."\u{8}", "\u{B}", "\u{C}", "\u{E}"..."\u{1F}", "\u{7F}", "\u{FFFE}", "\u{FFFF}": continue
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
