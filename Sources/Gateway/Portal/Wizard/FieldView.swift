import Contracts
import WorkflowKit

/// One form control as the `field` template draws it: its label, its hint, the HTML constraints the browser
/// checks before sending, the value to show again and, after a refusal, what to fix beside it.
struct FieldView: Sendable {
    struct Option: Sendable {
        var value: String
        var label: String
        var selected: Bool
        var id: String
    }

    var id: String
    var name: String
    var label: String
    var hint: String?
    var value: String
    var error: String?
    var required: Bool
    var text: Bool = false
    var textarea: Bool = false
    var slider: Bool = false
    var number: Bool = false
    var checkbox: Bool = false
    var radios: Bool = false
    var select: Bool = false
    var inputMode: String?
    var step: String?
    var min: String?
    var max: String?
    var minLength: String?
    var maxLength: String?
    var options: [Option] = []
    var checked: Bool = false
    /// `aria-describedby`: the hint and the error, when there are.
    var describedBy: String?

    init(_ field: ParameterField, answers: WizardAnswers) {
        let name = WizardAnswers.fieldName(field.name)
        self.init(
            name: name, label: field.title, hint: field.description, value: answers.texts[name] ?? "", error: answers.problems[name],
            required: field.required, kind: field.kind, minimum: field.minimum, maximum: field.maximum)
        minLength = field.minLength.map(String.init)
        maxLength = field.maxLength.map(String.init)
    }

    /// A control of `kind`; the project's own fields (name, budget), which no template schema describes, use it
    /// directly.
    init(
        name: String, label: String, hint: String?, value: String, error: String?, required: Bool,
        kind: ParameterField.Kind = .text(multiline: false), minimum: Double? = nil, maximum: Double? = nil
    ) {
        (self.name, self.label, self.hint, self.value, self.error, self.required) = (name, label, hint, value, error, required)
        id = "f-" + name.replacingOccurrences(of: ".", with: "-")
        min = minimum.map { ParameterField.text(of: .number($0)) }
        max = maximum.map { ParameterField.text(of: .number($0)) }
        switch kind {
        case .text(let multiline): (text, textarea) = (!multiline, multiline)
        case .integer(let isSlider):
            (slider, number, step, inputMode) = (isSlider, !isSlider, "1", "numeric")
            if isSlider, self.value.isEmpty { self.value = min ?? "0" }
        case .number: (number, step, inputMode) = (true, "any", "decimal")
        case .boolean: (checkbox, checked) = (true, !value.isEmpty)
        case .choice(let choices):
            if choices.count <= 5 { radios = true } else { select = true }
            options = choices.map { choice in
                Option(value: choice, label: Wording.words(choice), selected: choice == value, id: "\(id)-\(choice)")
            }
        }
        let described = [hint == nil ? nil : "\(id)-hint", error == nil ? nil : "\(id)-error"].compactMap { $0 }
        describedBy = described.isEmpty ? nil : described.joined(separator: " ")
    }
}
