import Contracts

/// A parsed `transition_condition`: a small sandboxed expression over `project`, `params`, `tasks` and `outputs`.
///
/// Comparisons (`== != < <= > >= in`), `and`/`or`/`not`, `+`/`-`, member access (`a.b`, `a[0]`), list literals,
/// and the functions `count(list)`, `all(list, predicate)` and `any(list, predicate)`, where the predicate sees each
/// item's fields by name. Parsed once; evaluation never runs host code and reports type errors instead of crashing.
public struct Condition: Sendable, Equatable, CustomStringConvertible {
    public let source: String
    let root: ConditionNode

    /// Parses `source`; the error names the column.
    public init(_ source: String) throws(ConditionError) {
        self.source = source
        var parser = ConditionParser(tokens: try ConditionLexer.tokens(source))
        self.root = try parser.parseCondition()
    }

    public var description: String { source }

    /// The top-level names the condition reads outside predicates (`params`, `outputs`, …) with the first member
    /// accessed, if any: `params.page_count` gives `("params", "page_count")`.
    public var references: [(root: String, member: String?)] {
        var found: [(String, String?)] = []
        root.collectReferences(into: &found, inPredicate: false)
        return found
    }

    /// Evaluates to a boolean against `context` (an object with `project`, `params`, `tasks`, `outputs`).
    public func evaluate(_ context: JSONValue) throws(ConditionError) -> Bool {
        let value = try root.evaluate(ConditionScope(root: context, item: nil))
        switch value {
        case .bool(let result): return result
        case .null: return false
        default: throw ConditionError(column: nil, message: "the condition gives \(value.typeName), not true or false")
        }
    }
}

/// The parsed form of a condition.
indirect enum ConditionNode: Sendable, Equatable {
    case literal(JSONValue)
    case name(String, column: Int)
    case member(ConditionNode, String)
    case index(ConditionNode, ConditionNode)
    case list([ConditionNode])
    case not(ConditionNode)
    case negate(ConditionNode)
    case binary(String, ConditionNode, ConditionNode)
    case call(String, [ConditionNode], column: Int)

    func collectReferences(into found: inout [(String, String?)], inPredicate: Bool) {
        switch self {
        case .literal: break
        case .name(let name, _): if !inPredicate { found.append((name, nil)) }
        case .member(let base, let key):
            if !inPredicate, case .name(let name, _) = base {
                found.append((name, key))
            } else {
                base.collectReferences(into: &found, inPredicate: inPredicate)
            }
        case .index(let base, let index):
            base.collectReferences(into: &found, inPredicate: inPredicate)
            index.collectReferences(into: &found, inPredicate: inPredicate)
        case .list(let items): items.forEach { $0.collectReferences(into: &found, inPredicate: inPredicate) }
        case .not(let operand), .negate(let operand): operand.collectReferences(into: &found, inPredicate: inPredicate)
        case .binary(_, let left, let right):
            left.collectReferences(into: &found, inPredicate: inPredicate)
            right.collectReferences(into: &found, inPredicate: inPredicate)
        case .call(_, let arguments, _):
            arguments.first?.collectReferences(into: &found, inPredicate: inPredicate)
            arguments.dropFirst().forEach { $0.collectReferences(into: &found, inPredicate: true) }
        }
    }
}

/// What names resolve to: a predicate's item fields first, then the context.
struct ConditionScope {
    let root: JSONValue
    let item: JSONValue?

    func resolve(_ name: String) -> JSONValue {
        if let item {
            if name == "item" { return item }
            if let value = item[name] { return value }
        }
        return root[name] ?? .null
    }
}

extension ConditionNode {
    func evaluate(_ scope: ConditionScope) throws(ConditionError) -> JSONValue {
        switch self {
        case .literal(let value):
            return value
        case .name(let name, _):
            return scope.resolve(name)
        case .member(let base, let key):
            return try base.evaluate(scope)[key] ?? .null
        case .index(let base, let index):
            let container = try base.evaluate(scope)
            switch (container, try index.evaluate(scope)) {
            case (.array(let items), .number(let position)):
                let offset = Int(exactly: position) ?? -1
                return items.indices.contains(offset) ? items[offset] : .null
            case (.object(let members), .string(let key)):
                return members[key] ?? .null
            case (.null, _):
                return .null
            case (let container, let key):
                throw ConditionError(column: nil, message: "cannot index \(container.typeName) with \(key.typeName)")
            }
        case .list(let items):
            var values: [JSONValue] = []
            for item in items { values.append(try item.evaluate(scope)) }
            return .array(values)
        case .not(let operand):
            return .bool(!(try Self.truth(operand.evaluate(scope), "not")))
        case .negate(let operand):
            guard case .number(let value) = try operand.evaluate(scope) else {
                throw ConditionError(column: nil, message: "'-' needs a number")
            }
            return .number(-value)
        case .binary(let symbol, let left, let right):
            return try Self.binary(symbol, left, right, scope)
        case .call(let name, let arguments, _):
            return try Self.call(name, arguments, scope)
        }
    }

    private static func truth(_ value: JSONValue, _ operation: String) throws(ConditionError) -> Bool {
        switch value {
        case .bool(let flag): return flag
        case .null: return false
        default: throw ConditionError(column: nil, message: "'\(operation)' needs true or false, got \(value.typeName)")
        }
    }

    private static func binary(_ symbol: String, _ left: ConditionNode, _ right: ConditionNode, _ scope: ConditionScope)
        throws(ConditionError)
        -> JSONValue
    {
        switch symbol {
        case "and":
            guard try truth(left.evaluate(scope), "and") else { return .bool(false) }
            return .bool(try truth(right.evaluate(scope), "and"))
        case "or":
            if try truth(left.evaluate(scope), "or") { return .bool(true) }
            return .bool(try truth(right.evaluate(scope), "or"))
        default:
            break
        }
        let lhs = try left.evaluate(scope)
        let rhs = try right.evaluate(scope)
        switch (symbol, lhs, rhs) {
        case ("==", _, _): return .bool(equal(lhs, rhs))
        case ("!=", _, _): return .bool(!equal(lhs, rhs))
        case ("in", _, .array(let items)): return .bool(items.contains { equal($0, lhs) })
        case ("in", .string(let part), .string(let whole)): return .bool(whole.contains(part))
        case ("in", _, .object(let members)): return .bool(lhs.stringValue.map { members[$0] != nil } ?? false)
        case ("+", .number(let a), .number(let b)): return .number(a + b)
        case ("+", .string(let a), .string(let b)): return .string(a + b)
        case ("-", .number(let a), .number(let b)): return .number(a - b)
        case ("<", .number(let a), .number(let b)): return .bool(a < b)
        case ("<=", .number(let a), .number(let b)): return .bool(a <= b)
        case (">", .number(let a), .number(let b)): return .bool(a > b)
        case (">=", .number(let a), .number(let b)): return .bool(a >= b)
        case ("<", .string(let a), .string(let b)): return .bool(a < b)
        case ("<=", .string(let a), .string(let b)): return .bool(a <= b)
        case (">", .string(let a), .string(let b)): return .bool(a > b)
        case (">=", .string(let a), .string(let b)): return .bool(a >= b)
        case ("<", .null, _), ("<=", .null, _), (">", .null, _), (">=", .null, _), ("<", _, .null), ("<=", _, .null), (">", _, .null),
            (">=", _, .null):
            return .bool(false)
        default:
            throw ConditionError(column: nil, message: "cannot apply '\(symbol)' to \(lhs.typeName) and \(rhs.typeName)")
        }
    }

    private static func equal(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        lhs == rhs
    }

    private static func call(_ name: String, _ arguments: [ConditionNode], _ scope: ConditionScope) throws(ConditionError) -> JSONValue {
        let subject = try arguments[0].evaluate(scope)
        switch name {
        case "count":
            switch subject {
            case .array(let items): return .number(Double(items.count))
            case .object(let members): return .number(Double(members.count))
            case .string(let text): return .number(Double(text.count))
            case .null: return .number(0)
            default: throw ConditionError(column: nil, message: "count() needs a list, got \(subject.typeName)")
            }
        default:
            let items: [JSONValue]
            switch subject {
            case .array(let values): items = values
            case .null: items = []
            default: throw ConditionError(column: nil, message: "\(name)() needs a list, got \(subject.typeName)")
            }
            for item in items {
                let holds = try truth(arguments[1].evaluate(ConditionScope(root: scope.root, item: item)), name)
                if name == "all", !holds { return .bool(false) }
                if name == "any", holds { return .bool(true) }
            }
            return .bool(name == "all")
        }
    }
}
