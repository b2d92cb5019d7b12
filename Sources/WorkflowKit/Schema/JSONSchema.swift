import Contracts
import Foundation

/// One problem found by schema validation: where (a JSON pointer) and what.
public struct SchemaViolation: Sendable, Equatable, CustomStringConvertible {
    /// JSON pointer to the offending value (`/pages/0/title`); empty for the whole document.
    public let pointer: String
    public let message: String

    public var description: String { "\(pointer.isEmpty ? "/" : pointer): \(message)" }
}

/// A JSON-schema subset for input and output contracts: `type`, `properties`, `required`,
/// `additionalProperties`, `items`, `enum`, `const`, `minimum`/`maximum`, `minLength`/`maxLength`,
/// `minItems`/`maxItems`, `pattern`, plus `title`, `description`, `default`, `format` and `examples` as annotations.
public struct JSONSchema: Sendable, Equatable {
    public let document: JSONValue

    static let types: Set<String> = ["object", "array", "string", "number", "integer", "boolean", "null"]
    static let keywords: Set<String> = [
        "type", "properties", "required", "additionalProperties", "items", "enum", "const", "minimum", "maximum",
        "minLength", "maxLength", "minItems", "maxItems", "pattern", "title", "description", "default", "format",
        "examples", "$schema", "x-widget", "x-order",
    ]

    /// Checks the schema itself; problems are pointers into the schema document.
    public init(_ document: JSONValue) throws(SchemaError) {
        var problems: [SchemaViolation] = []
        Self.check(document, at: "", into: &problems)
        guard problems.isEmpty else { throw SchemaError(violations: problems) }
        self.document = document
    }

    /// Validates `value`; returns every violation, nested ones with their full pointers.
    public func validate(_ value: JSONValue) -> [SchemaViolation] {
        var violations: [SchemaViolation] = []
        Self.validate(value, against: document, at: "", into: &violations)
        return violations
    }

    // MARK: Checking the schema

    private static func check(_ schema: JSONValue, at pointer: String, into problems: inout [SchemaViolation]) {
        guard case .object(let members) = schema else {
            problems.append(SchemaViolation(pointer: pointer, message: "a schema must be an object, got \(schema.typeName)"))
            return
        }
        for key in members.keys.sorted() where !keywords.contains(key) {
            problems.append(SchemaViolation(pointer: pointer + "/" + escape(key), message: "unsupported keyword '\(key)'"))
        }
        if let type = members["type"] {
            let names: [JSONValue] = type.arrayValue ?? [type]
            for name in names where !(name.stringValue.map(types.contains) ?? false) {
                problems.append(
                    SchemaViolation(
                        pointer: pointer + "/type",
                        message: "unknown type \(name.jsonString()); use one of \(types.sorted().joined(separator: ", "))")
                )
            }
        }
        if let properties = members["properties"] {
            if case .object(let map) = properties {
                for (name, subschema) in map.sorted(by: { $0.key < $1.key }) {
                    check(subschema, at: pointer + "/properties/" + escape(name), into: &problems)
                }
            } else {
                problems.append(SchemaViolation(pointer: pointer + "/properties", message: "must be an object of schemas"))
            }
        }
        if let required = members["required"] {
            let names = required.arrayValue?.compactMap(\.stringValue)
            if names == nil || names?.count != required.arrayValue?.count {
                problems.append(SchemaViolation(pointer: pointer + "/required", message: "must be a list of property names"))
            } else if let properties = members["properties"]?.objectValue {
                for name in names ?? [] where properties[name] == nil {
                    problems.append(
                        SchemaViolation(pointer: pointer + "/required", message: "'\(name)' is required but not among the properties"))
                }
            }
        }
        if let additional = members["additionalProperties"] {
            if case .bool = additional {} else { check(additional, at: pointer + "/additionalProperties", into: &problems) }
        }
        if let items = members["items"] { check(items, at: pointer + "/items", into: &problems) }
        for key in ["minimum", "maximum"] where members[key] != nil && members[key]?.numberValue == nil {
            problems.append(SchemaViolation(pointer: pointer + "/" + key, message: "must be a number"))
        }
        for key in ["minLength", "maxLength", "minItems", "maxItems"] {
            if let value = members[key], !(value.numberValue.map { $0 >= 0 && $0.rounded() == $0 } ?? false) {
                problems.append(SchemaViolation(pointer: pointer + "/" + key, message: "must be a whole number ≥ 0"))
            }
        }
        if let values = members["enum"], values.arrayValue?.isEmpty != false {
            problems.append(SchemaViolation(pointer: pointer + "/enum", message: "must be a non-empty list"))
        }
        if let pattern = members["pattern"] {
            if let text = pattern.stringValue {
                if (try? NSRegularExpression(pattern: text)) == nil {
                    problems.append(SchemaViolation(pointer: pointer + "/pattern", message: "'\(text)' is not a valid regular expression"))
                }
            } else {
                problems.append(SchemaViolation(pointer: pointer + "/pattern", message: "must be a string"))
            }
        }
    }

    // MARK: Validating values

    private static func validate(
        _ value: JSONValue, against schema: JSONValue, at pointer: String, into violations: inout [SchemaViolation]
    ) {
        guard case .object(let rules) = schema else { return }
        if let type = rules["type"] {
            let allowed = (type.arrayValue ?? [type]).compactMap(\.stringValue)
            guard allowed.contains(where: { matches(value, type: $0) }) else {
                violations.append(
                    SchemaViolation(pointer: pointer, message: "expected \(allowed.joined(separator: " or ")), got \(value.typeName)"))
                return
            }
        }
        if let constant = rules["const"], constant != value {
            violations.append(SchemaViolation(pointer: pointer, message: "must be \(constant.jsonString())"))
        }
        if let options = rules["enum"]?.arrayValue, !options.contains(value) {
            violations.append(
                SchemaViolation(pointer: pointer, message: "must be one of \(options.map { $0.jsonString() }.joined(separator: ", "))")
            )
        }
        switch value {
        case .number(let number):
            if let minimum = rules["minimum"]?.numberValue, number < minimum {
                violations.append(SchemaViolation(pointer: pointer, message: "must be at least \(format(minimum))"))
            }
            if let maximum = rules["maximum"]?.numberValue, number > maximum {
                violations.append(SchemaViolation(pointer: pointer, message: "must be at most \(format(maximum))"))
            }
        case .string(let text):
            if let minimum = rules["minLength"]?.numberValue, Double(text.count) < minimum {
                violations.append(SchemaViolation(pointer: pointer, message: "must have at least \(format(minimum)) characters"))
            }
            if let maximum = rules["maxLength"]?.numberValue, Double(text.count) > maximum {
                violations.append(SchemaViolation(pointer: pointer, message: "must have at most \(format(maximum)) characters"))
            }
            if let pattern = rules["pattern"]?.stringValue, let expression = try? NSRegularExpression(pattern: pattern),
                expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil
            {
                violations.append(SchemaViolation(pointer: pointer, message: "must match the pattern \(pattern)"))
            }
        case .array(let items):
            if let minimum = rules["minItems"]?.numberValue, Double(items.count) < minimum {
                violations.append(SchemaViolation(pointer: pointer, message: "must have at least \(format(minimum)) items"))
            }
            if let maximum = rules["maxItems"]?.numberValue, Double(items.count) > maximum {
                violations.append(SchemaViolation(pointer: pointer, message: "must have at most \(format(maximum)) items"))
            }
            if let itemSchema = rules["items"] {
                for (index, item) in items.enumerated() {
                    validate(item, against: itemSchema, at: "\(pointer)/\(index)", into: &violations)
                }
            }
        case .object(let members):
            let properties = rules["properties"]?.objectValue ?? [:]
            for name in rules["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[name] == nil {
                violations.append(SchemaViolation(pointer: pointer + "/" + escape(name), message: "is required"))
            }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                let memberPointer = pointer + "/" + escape(name)
                if let propertySchema = properties[name] {
                    validate(member, against: propertySchema, at: memberPointer, into: &violations)
                } else if let additional = rules["additionalProperties"] {
                    if additional == .bool(false) {
                        violations.append(SchemaViolation(pointer: memberPointer, message: "is not an allowed property"))
                    } else {
                        validate(member, against: additional, at: memberPointer, into: &violations)
                    }
                }
            }
        default:
            break
        }
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string), ("array", .array), ("object", .object): true
        case ("integer", .number(let number)): number.rounded() == number
        default: false
        }
    }

    private static func format(_ number: Double) -> String {
        number.rounded() == number ? String(Int(number)) : String(number)
    }

    /// Escapes a key for a JSON pointer (RFC 6901).
    static func escape(_ key: String) -> String {
        key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}

/// A schema that is not a valid schema of the supported subset.
public struct SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    public let violations: [SchemaViolation]
    public var description: String { violations.map(\.description).joined(separator: "; ") }
}
