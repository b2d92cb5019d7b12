/// A token of the condition language, with where it starts (1-based column).
struct ConditionToken: Equatable {
    enum Kind: Equatable {
        case number(Double)
        case string(String)
        case identifier(String)
        case keyword(String)
        case symbol(String)
        case end
    }

    let kind: Kind
    let column: Int
}

/// Splits condition text into tokens; never crashes on any input.
enum ConditionLexer {
    static let keywords: Set<String> = ["and", "or", "not", "true", "false", "null", "in"]
    private static let twoCharacterSymbols: Set<String> = ["==", "!=", "<=", ">="]
    private static let oneCharacterSymbols: Set<Character> = ["<", ">", "(", ")", "[", "]", ".", ",", "+", "-"]

    static func tokens(_ text: String) throws(ConditionError) -> [ConditionToken] {
        let characters = Array(text)
        var tokens: [ConditionToken] = []
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let column = index + 1
            if character.isWhitespace {
                index += 1
            } else if character.isNumber {
                var end = index
                while end < characters.count,
                    characters[end].isNumber || characters[end] == "." && end + 1 < characters.count && characters[end + 1].isNumber
                {
                    end += 1
                }
                guard let value = Double(String(characters[index..<end])) else {
                    throw ConditionError(column: column, message: "'\(String(characters[index..<end]))' is not a number")
                }
                tokens.append(ConditionToken(kind: .number(value), column: column))
                index = end
            } else if character.isLetter || character == "_" {
                var end = index
                while end < characters.count, characters[end].isLetter || characters[end].isNumber || characters[end] == "_" { end += 1 }
                let word = String(characters[index..<end])
                tokens.append(ConditionToken(kind: keywords.contains(word) ? .keyword(word) : .identifier(word), column: column))
                index = end
            } else if character == "\"" || character == "'" {
                var end = index + 1
                var value = ""
                while end < characters.count, characters[end] != character {
                    if characters[end] == "\\", end + 1 < characters.count {
                        end += 1
                    }
                    value.append(characters[end])
                    end += 1
                }
                guard end < characters.count else {
                    throw ConditionError(column: column, message: "the string that starts here is never closed")
                }
                tokens.append(ConditionToken(kind: .string(value), column: column))
                index = end + 1
            } else if index + 1 < characters.count, twoCharacterSymbols.contains(String(characters[index...index + 1])) {
                tokens.append(ConditionToken(kind: .symbol(String(characters[index...index + 1])), column: column))
                index += 2
            } else if oneCharacterSymbols.contains(character) {
                tokens.append(ConditionToken(kind: .symbol(String(character)), column: column))
                index += 1
            } else if character == "=" {
                throw ConditionError(column: column, message: "use '==' to compare, not '='")
            } else if character == "&" || character == "|" {
                throw ConditionError(column: column, message: "use 'and' / 'or' instead of '\(character)'")
            } else if character == "!" {
                throw ConditionError(column: column, message: "use 'not' instead of '!'")
            } else {
                throw ConditionError(column: column, message: "unexpected character '\(character)'")
            }
        }
        tokens.append(ConditionToken(kind: .end, column: characters.count + 1))
        return tokens
    }
}

/// A condition that cannot be parsed or evaluated, with the column it refers to.
public struct ConditionError: Error, Equatable, CustomStringConvertible, Sendable {
    /// 1-based column in the condition text, or `nil` for evaluation errors without a position.
    public let column: Int?
    public let message: String

    public var description: String {
        column.map { "column \($0): \(message)" } ?? message
    }
}
