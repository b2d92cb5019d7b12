import Contracts
import Foundation
import WorkflowKit

/// What a person typed into a creation wizard, as the template's parameters, with what to fix by field. The same
/// check runs in the page (the HTML constraints of every field) and here, with the template's own schema.
struct WizardAnswers: Sendable {
    /// Form field names: the project's `name` and `budget`, and `p.<parameter>` for the template's parameters.
    static func fieldName(_ parameter: String) -> String { "p.\(parameter)" }

    var name: String
    var budget: String
    /// What each field shows, by form field name.
    var texts: [String: String]
    var params: [String: JSONValue] = [:]
    var budgetDollars: Double?
    /// What to fix, by form field name; empty when the answers can make a project.
    var problems: [String: String] = [:]

    /// The template's defaults, for a new form.
    init(fields: [ParameterField]) {
        name = ""
        budget = ""
        texts = Dictionary(uniqueKeysWithValues: fields.map { (Self.fieldName($0.name), ParameterField.text(of: $0.defaultValue)) })
    }

    /// The answers a form sent, checked against the fields and the template's schema.
    init(form: FormFields, fields: [ParameterField], definition: WorkflowDefinition) {
        name = form.text("name") ?? ""
        budget = form.text("budget") ?? ""
        texts = [:]
        if name.isEmpty {
            problems["name"] = "Give the project a name."
        } else if name.count > 200 {
            problems["name"] = "Use at most 200 characters."
        }
        if !budget.isEmpty {
            if let dollars = Money.dollars(budget) {
                budgetDollars = dollars
            } else {
                problems["budget"] = "Enter an amount in US dollars, like 5, or leave it empty."
            }
        }
        for field in fields {
            let key = Self.fieldName(field.name)
            texts[key] = form[key] ?? ""
            switch field.value(from: form[key]) {
            case .success(let value?): params[field.name] = value
            case .success(nil): break
            case .failure(let problem): problems[key] = problem.message
            }
        }
        let checked = definition.parameters(params)
        for violation in (try? JSONSchema(definition.paramsSchema).validate(.object(checked))) ?? [] {
            let parameter = violation.pointer.split(separator: "/").first.map(String.init) ?? ""
            let key = fields.contains { $0.name == parameter } ? Self.fieldName(parameter) : "form"
            if problems[key] == nil { problems[key] = Self.sentence(violation.message) }
        }
    }

    /// A refusal of the StageService (`- params/page_count: must be at most 10` lines) by field.
    mutating func add(refusal message: String, fields: [ParameterField]) {
        for line in message.split(separator: "\n") where line.hasPrefix("- params/") {
            let rest = line.dropFirst("- params/".count)
            guard let colon = rest.firstIndex(of: ":") else { continue }
            let parameter = String(rest[..<colon].split(separator: "/").first ?? "")
            let key = fields.contains { $0.name == parameter } ? Self.fieldName(parameter) : "form"
            problems[key] = Self.sentence(String(rest[rest.index(after: colon)...]))
        }
        if problems.isEmpty { problems["form"] = message }
    }

    /// A validator's words as a sentence for the person filling in the form.
    static func sentence(_ message: String) -> String {
        let text = message.trimmingCharacters(in: .whitespaces)
        if text == "is required" { return "This is needed." }
        return text.prefix(1).uppercased() + text.dropFirst() + (text.hasSuffix(".") ? "" : ".")
    }
}
