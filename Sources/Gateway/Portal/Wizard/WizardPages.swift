import Contracts
import Foundation
import Hummingbird
import Messaging
import WorkflowKit

/// `/portal/create`: the templates to start from, and for each (`/portal/create/website`, …, or any custom one) a
/// wizard generated from its `params_schema`: the questions in steps, then a summary with the cost estimate, then
/// "Create project", which starts it and opens its page.
struct WizardPages {
    let views: PortalViews
    let backend: Backend
    let accounts: Accounts
    let templates: TemplateVersions

    struct PickerView {
        struct Item {
            var name: String
            var description: String
            var href: String
            var custom: Bool
        }
        var chrome: Chrome
        var templates: [Item]
    }

    struct FormView {
        struct Step {
            var number: Int
            var legend: String
            var fields: [FieldView]
        }
        struct Problem {
            var href: String
            var message: String
        }
        var chrome: Chrome
        var heading: String
        var description: String
        var action: String
        var version: Int
        var once: String
        var steps: [Step]
        var stepCount: Int
        var problems: [Problem]
        let anyProblem: Bool
        var formProblem: String?
    }

    struct ReviewView {
        struct Row {
            var label: String
            var value: String
        }
        struct Hidden {
            var name: String
            var value: String
        }
        var chrome: Chrome
        var heading: String
        var action: String
        var rows: [Row]
        var hidden: [Hidden]
        var estimate: [CostEstimate.Line]
        var total: String
        var unpriced: String?
        var budget: String?
        var model: String?
    }

    /// One template as the wizard uses it.
    struct Template {
        var summary: TemplateSummary
        var definition: WorkflowDefinition
        var fields: [ParameterField]
    }

    func add(to portal: RouterGroup<APIContext>) {
        portal.get("create") { _, context in try await picker(context) }
        portal.get("create/:code") { _, context in
            let template = try await load(context)
            return form(template, WizardAnswers(fields: template.fields), once: Accounts.randomToken(), context: context)
        }
        portal.post("create/:code") { _, context in try await submit(context) }
    }

    private func picker(_ context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let templates = try await backend.ask(ListTemplates(), as: caller)
        let items = templates.sorted { ($0.builtIn ? 0 : 1, $0.name) < ($1.builtIn ? 0 : 1, $1.name) }.map {
            PickerView.Item(name: $0.name, description: $0.description, href: "/portal/create/\($0.code)", custom: !$0.builtIn)
        }
        return views.page(
            "create", PickerView(chrome: Chrome(title: "Create a project", context: context, path: "/portal/create"), templates: items))
    }

    private func load(_ context: APIContext, version: Int? = nil) async throws -> Template {
        let read = try await templates.template(try context.parameters.require("code"), version: version, as: try context.caller())
        return Template(
            summary: read.document.summary, definition: read.definition,
            fields: ParameterField.fields(of: read.definition, source: read.document.yaml))
    }

    /// `action` says which button was pressed: `review` (the questions were answered), `edit` (back from the
    /// summary) or `create`.
    private func submit(_ context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let template = try await load(context, version: context.form["version"].flatMap { Int($0) })
        var answers = WizardAnswers(form: context.form, fields: template.fields, definition: template.definition)
        let once = context.form.text("once") ?? Accounts.randomToken()
        let action = context.form["action"] ?? "review"
        guard answers.problems.isEmpty, action != "edit" else {
            return form(template, answers, once: once, context: context, status: action == "edit" ? .ok : .unprocessableContent)
        }
        guard action == "create" else { return try await review(template, answers, once: once, context: context) }
        let make = CreateProject(
            template: template.summary.code, version: template.summary.version, name: answers.name, params: answers.params,
            budget: answers.budgetDollars, start: true, ownerEmail: caller.email)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // the same answers, the same hash
        var asked = make
        asked.projectID = nil  // fresh on every submit; the answers are what must match
        let hash = Accounts.hash(try encoder.encode(asked))
        do {
            let made = try await ProjectRoutes.create(
                make, once: ("portal:\(once)", hash), as: caller, backend: backend, accounts: accounts)
            return PortalViews.redirect("/portal/projects/\(made.project.id)")
        } catch let refusal as RemoteError where refusal.code == "invalid" {
            answers.add(refusal: refusal.message, fields: template.fields)
        } catch let refusal as APIError where refusal.code == "idempotency-key-reused" {
            answers.problems["form"] = "This form already created a project. Open it from your projects, or start a new form."
        }
        return form(template, answers, once: once, context: context, status: .unprocessableContent)
    }

    private func form(
        _ template: Template, _ answers: WizardAnswers, once: String, context: APIContext, status: HTTPResponse.Status = .ok
    ) -> Response {
        let project = FieldView(
            name: "name", label: "Name of the project", hint: "Only you see it, on your list of projects.", value: answers.name,
            error: answers.problems["name"], required: true)
        let budget = FieldView(
            name: "budget", label: "Spending limit in US dollars (optional)",
            hint: "The project pauses before a step would cost more. Leave empty for no limit.", value: answers.budget,
            error: answers.problems["budget"], required: false, kind: .number, minimum: 0.01)
        let fields = template.fields.map { FieldView($0, answers: answers) }
        let needed = fields.filter(\.required)
        let optional = fields.filter { !$0.required }
        // At most four questions a step, so a phone shows one step without scrolling far.
        var groups = ([project] + needed).chunked(4)
        groups.append(contentsOf: optional.chunked(4))
        groups[groups.count - 1].append(budget)
        let steps = groups.enumerated().map { index, fields in
            FormView.Step(number: index + 1, legend: "Step \(index + 1) of \(groups.count)", fields: fields)
        }
        let problems = steps.flatMap(\.fields).compactMap { field in
            field.error.map { FormView.Problem(href: "#\(field.id)", message: "\(field.label): \($0)") }
        }
        let view = FormView(
            chrome: Chrome(title: "New \(template.summary.name.lowercased())", context: context, path: "/portal/create"),
            heading: "New \(template.summary.name.lowercased())", description: template.summary.description,
            action: "/portal/create/\(template.summary.code)", version: template.summary.version, once: once, steps: steps,
            stepCount: steps.count, problems: problems, anyProblem: !problems.isEmpty || answers.problems["form"] != nil,
            formProblem: answers.problems["form"])
        return views.page("wizard", view, status: status)
    }

    private func review(_ template: Template, _ answers: WizardAnswers, once: String, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let params = template.definition.parameters(answers.params)
        var rows = [ReviewView.Row(label: "Name of the project", value: answers.name)]
        for field in template.fields {
            let value = params[field.name]
            let shown: String =
                switch (field.kind, value) {
                case (.boolean, .bool(let flag)?): flag ? "Yes" : "No"
                case (.choice, .string(let choice)?): Wording.words(choice)
                case (_, nil): "Not given"
                default: ParameterField.text(of: value)
                }
            rows.append(ReviewView.Row(label: field.title, value: shown))
        }
        var hidden = answers.texts.sorted { $0.key < $1.key }.map { ReviewView.Hidden(name: $0.key, value: $0.value) }
        hidden += [
            .init(name: "name", value: answers.name), .init(name: "budget", value: answers.budget), .init(name: "once", value: once),
            .init(name: "version", value: String(template.summary.version)),
        ]
        let prices = try? await backend.ask(GetPriceList(), as: caller)
        let estimate = prices.map { CostEstimate(definition: template.definition, params: params, prices: $0) }
        let view = ReviewView(
            chrome: Chrome(title: "Check and create", context: context, path: "/portal/create"),
            heading: "New \(template.summary.name.lowercased()): check and create", action: "/portal/create/\(template.summary.code)",
            rows: rows, hidden: hidden, estimate: estimate?.lines ?? [], total: estimate.map { Money.format($0.total) } ?? "unknown",
            unpriced: estimate.flatMap { $0.unpriced.isEmpty ? nil : $0.unpriced.joined(separator: ", ") },
            budget: answers.budgetDollars.map(Money.format), model: estimate?.lines.first?.model)
        return views.page("wizard-review", view)
    }
}

extension Array {
    /// The elements in runs of at most `size`.
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
