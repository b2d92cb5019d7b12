/// Recursive descent over the tokens, lowest precedence first: or, and, not, comparison, + -, unary -, postfix.
struct ConditionParser {
    private let tokens: [ConditionToken]
    private var position = 0
    private var depth = 0
    private static let maximumDepth = 64
    static let functions: [String: Int] = ["count": 1, "all": 2, "any": 2]

    init(tokens: [ConditionToken]) {
        self.tokens = tokens
    }

    mutating func parseCondition() throws(ConditionError) -> ConditionNode {
        let node = try parseOr()
        guard case .end = current.kind else {
            throw ConditionError(column: current.column, message: "unexpected \(describe(current)) after a complete condition")
        }
        return node
    }

    private var current: ConditionToken { tokens[position] }

    private mutating func advance() -> ConditionToken {
        defer { if position < tokens.count - 1 { position += 1 } }
        return tokens[position]
    }

    private mutating func accept(_ kind: ConditionToken.Kind) -> Bool {
        guard current.kind == kind else { return false }
        _ = advance()
        return true
    }

    private mutating func expect(_ symbol: String, _ context: String) throws(ConditionError) {
        guard accept(.symbol(symbol)) else {
            throw ConditionError(column: current.column, message: "expected '\(symbol)' \(context), found \(describe(current))")
        }
    }

    private mutating func nested<Result>(_ body: (inout ConditionParser) throws(ConditionError) -> Result) throws(ConditionError) -> Result
    {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            throw ConditionError(column: current.column, message: "the condition nests deeper than \(Self.maximumDepth) levels")
        }
        return try body(&self)
    }

    private mutating func parseOr() throws(ConditionError) -> ConditionNode {
        try nested { parser throws(ConditionError) in
            var node = try parser.parseAnd()
            while parser.accept(.keyword("or")) { node = .binary("or", node, try parser.parseAnd()) }
            return node
        }
    }

    private mutating func parseAnd() throws(ConditionError) -> ConditionNode {
        var node = try parseNot()
        while accept(.keyword("and")) { node = .binary("and", node, try parseNot()) }
        return node
    }

    private mutating func parseNot() throws(ConditionError) -> ConditionNode {
        if accept(.keyword("not")) {
            return try nested { parser throws(ConditionError) in .not(try parser.parseNot()) }
        }
        return try parseComparison()
    }

    private mutating func parseComparison() throws(ConditionError) -> ConditionNode {
        let left = try parseAdditive()
        for symbol in ["==", "!=", "<", "<=", ">", ">="] where accept(.symbol(symbol)) {
            return .binary(symbol, left, try parseAdditive())
        }
        if accept(.keyword("in")) { return .binary("in", left, try parseAdditive()) }
        return left
    }

    private mutating func parseAdditive() throws(ConditionError) -> ConditionNode {
        var node = try parseUnary()
        while true {
            if accept(.symbol("+")) {
                node = .binary("+", node, try parseUnary())
            } else if accept(.symbol("-")) {
                node = .binary("-", node, try parseUnary())
            } else {
                return node
            }
        }
    }

    private mutating func parseUnary() throws(ConditionError) -> ConditionNode {
        if accept(.symbol("-")) {
            return try nested { parser throws(ConditionError) in .negate(try parser.parseUnary()) }
        }
        return try parsePostfix()
    }

    private mutating func parsePostfix() throws(ConditionError) -> ConditionNode {
        var node = try parsePrimary()
        while true {
            if accept(.symbol(".")) {
                guard case .identifier(let name) = current.kind else {
                    throw ConditionError(column: current.column, message: "expected a name after '.', found \(describe(current))")
                }
                _ = advance()
                node = .member(node, name)
            } else if accept(.symbol("[")) {
                let index = try nested { parser throws(ConditionError) in try parser.parseOr() }
                try expect("]", "to close the index")
                node = .index(node, index)
            } else {
                return node
            }
        }
    }

    private mutating func parsePrimary() throws(ConditionError) -> ConditionNode {
        let token = advance()
        switch token.kind {
        case .number(let value): return .literal(.number(value))
        case .string(let value): return .literal(.string(value))
        case .keyword("true"): return .literal(.bool(true))
        case .keyword("false"): return .literal(.bool(false))
        case .keyword("null"): return .literal(.null)
        case .identifier(let name):
            guard accept(.symbol("(")) else { return .name(name, column: token.column) }
            guard let arity = Self.functions[name] else {
                throw ConditionError(column: token.column, message: "unknown function '\(name)'; available: all, any, count")
            }
            var arguments: [ConditionNode] = []
            if !accept(.symbol(")")) {
                repeat {
                    arguments.append(try nested { parser throws(ConditionError) in try parser.parseOr() })
                } while accept(.symbol(","))
                try expect(")", "after the arguments of \(name)")
            }
            guard arguments.count == arity else {
                throw ConditionError(
                    column: token.column,
                    message: "\(name)() takes \(arity == 1 ? "one argument" : "a list and a predicate"), got \(arguments.count)"
                )
            }
            return .call(name, arguments, column: token.column)
        case .symbol("("):
            let node = try nested { parser throws(ConditionError) in try parser.parseOr() }
            try expect(")", "to close the parenthesis")
            return node
        case .symbol("["):
            var items: [ConditionNode] = []
            if !accept(.symbol("]")) {
                repeat {
                    items.append(try nested { parser throws(ConditionError) in try parser.parseOr() })
                } while accept(.symbol(","))
                try expect("]", "to close the list")
            }
            return .list(items)
        default:
            throw ConditionError(column: token.column, message: "expected a value, a name or '(', found \(describe(token))")
        }
    }

    private func describe(_ token: ConditionToken) -> String {
        switch token.kind {
        case .number(let value): "the number \(value)"
        case .string(let value): "the string \"\(value)\""
        case .identifier(let name): "the name '\(name)'"
        case .keyword(let word): "'\(word)'"
        case .symbol(let symbol): "'\(symbol)'"
        case .end: "the end of the condition"
        }
    }
}
