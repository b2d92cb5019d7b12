import Contracts
import Foundation
import Yams

/// One parameter of a template as a person fills it in: what `params_schema` says about a top-level property,
/// in the order the form shows them, and how the text a form sends becomes the JSON value the schema checks.
public struct ParameterField: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Free text; `multiline` for long answers (a `maxLength` over 200, or `x-widget: textarea`).
        case text(multiline: Bool)
        /// A whole number; `slider` when both bounds are set and at most 100 apart (or `x-widget: slider`).
        case integer(slider: Bool)
        case number
        case boolean
        case choice([String])
    }

    public var name: String
    public var title: String
    public var description: String?
    public var kind: Kind
    public var required: Bool
    public var minimum: Double?
    public var maximum: Double?
    public var minLength: Int?
    public var maxLength: Int?
    /// The property's `default`, or the template's `default_params` entry.
    public var defaultValue: JSONValue?

    /// The fields of `definition`'s parameters: ordered by `x-order`, then as the YAML `source` lists them, then by
    /// name. Properties whose type a form cannot fill in (arrays, objects) are left out: their defaults apply.
    public static func fields(of definition: WorkflowDefinition, source: String?) -> [ParameterField] {
        guard case .object(let schema) = definition.paramsSchema, case .object(let properties)? = schema["properties"] else {
            return []
        }
        var required: Set<String> = []
        if case .array(let names)? = schema["required"] { required = Set(names.compactMap(\.stringValue)) }
        let listed = source.map(Self.propertyOrder) ?? []
        let position = Dictionary(listed.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let fields = properties.compactMap { name, property in
            Self.field(name, property, required: required.contains(name), defaultValue: definition.defaultParams?[name])
        }
        return fields.sorted { a, b in
            let (orderA, orderB) = (order(properties[a.name]), order(properties[b.name]))
            if orderA != orderB { return (orderA ?? .infinity) < (orderB ?? .infinity) }
            let (placeA, placeB) = (position[a.name] ?? Int.max, position[b.name] ?? Int.max)
            return placeA != placeB ? placeA < placeB : a.name < b.name
        }
    }

    /// The value a form's text stands for, or what to fix. Empty text is no value (`nil`): the schema then says
    /// whether the field was required. A checkbox that was not ticked sends nothing, which is `false`.
    public func value(from text: String?) -> Result<JSONValue?, ParameterProblem> {
        let trimmed = text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        switch kind {
        case .boolean:
            return .success(.bool(!trimmed.isEmpty && trimmed != "false"))
        case _ where trimmed.isEmpty:
            return .success(nil)
        case .text, .choice:
            return .success(.string(trimmed))
        case .integer:
            guard let number = Int(trimmed) else { return .failure(ParameterProblem("enter a whole number, like 5")) }
            return .success(.number(Double(number)))
        case .number:
            guard let number = Double(trimmed.replacingOccurrences(of: ",", with: ".")), number.isFinite else {
                return .failure(ParameterProblem("enter a number, like 2.5"))
            }
            return .success(.number(number))
        }
    }

    /// The value as a form shows it again.
    public static func text(of value: JSONValue?) -> String {
        switch value {
        case .string(let text)?: text
        case .number(let number)?: number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
        case .bool(let flag)?: flag ? "true" : ""
        default: ""
        }
    }

    private static func field(_ name: String, _ property: JSONValue, required: Bool, defaultValue: JSONValue?) -> ParameterField? {
        guard case .object(let keys) = property else { return nil }
        let widget = keys["x-widget"]?.stringValue
        let (minimum, maximum) = (keys["minimum"]?.numberValue, keys["maximum"]?.numberValue)
        let maxLength = keys["maxLength"]?.numberValue.map { Int($0) }
        let kind: Kind
        if case .array(let options)? = keys["enum"] {
            kind = .choice(options.compactMap(\.stringValue))
        } else {
            switch keys["type"]?.stringValue {
            case "string": kind = .text(multiline: widget == "textarea" || (widget == nil && (maxLength ?? 0) > 200))
            case "integer":
                let narrow = minimum.flatMap { low in maximum.map { $0 - low <= 100 } } ?? false
                kind = .integer(slider: widget == "slider" || (widget == nil && narrow))
            case "number": kind = .number
            case "boolean": kind = .boolean
            default: return nil
            }
        }
        return ParameterField(
            name: name, title: keys["title"]?.stringValue ?? name.replacingOccurrences(of: "_", with: " ").capitalized,
            description: keys["description"]?.stringValue, kind: kind, required: required, minimum: minimum, maximum: maximum,
            minLength: keys["minLength"]?.numberValue.map { Int($0) }, maxLength: maxLength,
            defaultValue: keys["default"] ?? defaultValue)
    }

    private static func order(_ property: JSONValue?) -> Double? {
        guard case .object(let keys)? = property else { return nil }
        return keys["x-order"]?.numberValue
    }

    /// The names under `params_schema.properties` in the order the YAML writes them (JSON objects keep none).
    static func propertyOrder(_ yaml: String) -> [String] {
        guard let root = try? Yams.compose(yaml: yaml), let schema = root.mapping?["params_schema"],
            let properties = schema.mapping?["properties"]?.mapping
        else { return [] }
        return properties.keys.compactMap(\.string)
    }
}

/// What is wrong with what was typed into a field, said to the person who typed it.
public struct ParameterProblem: Error, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}
