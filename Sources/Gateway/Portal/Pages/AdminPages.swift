import Contracts
import Foundation
import Hummingbird
import Messaging
import WorkflowKit

/// The operator's pages, for admins only: `/portal/admin` (the providers with their lanes, usage and cost per
/// day, the dead-letter queues with a replay button) and `/portal/admin/templates` (every template and its stages,
/// a custom YAML uploaded with its problems shown by line, a prompt rendered with sample parameters).
struct AdminPages {
    let views: PortalViews
    let backend: Backend
    let templates: TemplateVersions

    struct Overview {
        struct Provider {
            var name: String
            var kind: String
            var models: String
            var state: String
            var lane: String
            var interactive: String
            var limits: String
        }
        struct Day {
            var day: String
            var provider: String
            var model: String
            var tasks: Int
            var tokensIn: Int
            var tokensOut: Int
            var cost: String
        }
        struct DeadLetters {
            var queue: String
            var source: String
            var count: Int
            let any: Bool
        }
        var chrome: Chrome
        var providers: [Provider]
        var providersProblem: String?
        var days: [Day]
        var deadLetters: [DeadLetters]
        var replayed: String?
        let anyDays: Bool
    }

    struct TemplatesView {
        struct Item {
            var code: String
            var name: String
            var version: Int
            var builtIn: Bool
            var href: String
        }
        struct Line {
            var number: Int
            var text: String
            var problem: Bool
        }
        struct Issue {
            var line: String
            var path: String
            var message: String
        }
        var chrome: Chrome
        var templates: [Item]
        var yaml: String
        var issues: [Issue]
        var lines: [Line]
        let anyIssue: Bool
    }

    struct TemplateView {
        struct Stage {
            var sequence: Int
            var code: String
            var name: String
            var mode: String
            var approval: String?
            var hasPrompt: Bool
            var selected = false
        }
        var chrome: Chrome
        var name: String
        var code: String
        var version: Int
        var description: String
        var stages: [Stage]
        var promptStages: [Stage]
        var yaml: String
        var sampleParams: String
        var previewStage: String?
        var previewSystem: String?
        var previewUser: String?
        var previewProblem: String?
        var uploaded: Bool
    }

    func add(to portal: RouterGroup<APIContext>) {
        portal.get("admin") { request, context in
            try await overview(context, replayed: request.uri.queryParameters["replayed"].map(String.init))
        }
        portal.post("admin/dead-letters/replay") { _, context in
            let replayed = try await AdminRoutes.replay(
                context.form["queue"] ?? "", limit: AdminRoutes.replayLimit, backend: backend, as: try context.admin())
            return PortalViews.redirect("/portal/admin?replayed=\(replayed.moved)")
        }
        portal.get("admin/templates") { _, context in try await templatesPage(context) }
        portal.post("admin/templates") { _, context in try await upload(context) }
        portal.get("admin/templates/:code") { request, context in
            try await template(context, uploaded: request.uri.queryParameters["uploaded"] != nil)
        }
        portal.post("admin/templates/:code/preview") { _, context in try await template(context, preview: true) }
    }

    // MARK: Overview

    private func overview(_ context: APIContext, replayed: String?) async throws -> Response {
        let admin = try context.admin()
        var providersProblem: String?
        let providers: [Overview.Provider]
        do {
            providers = try await backend.ask(GetProviderStatus(), as: admin).map { status in
                Overview.Provider(
                    name: status.name, kind: status.kind, models: status.models.joined(separator: ", "),
                    state: status.cooling ? "Cooling down after failures: its fallbacks answer meanwhile" : "Answering",
                    lane: status.laneDepth.map(String.init) ?? "unknown",
                    interactive: status.interactiveDepth.map(String.init) ?? "unknown", limits: Self.limits(status))
            }
        } catch {
            providers = []
            providersProblem =
                "No ProviderGateway answered: \(APIErrorMiddleware<APIContext>.apiError(for: error, context: context).message)."
        }
        let days = ((try? await backend.ask(GetUsageByDay(days: 14), as: admin)) ?? []).map {
            Overview.Day(
                day: $0.day, provider: $0.provider, model: $0.model, tasks: $0.tasks, tokensIn: $0.tokensIn, tokensOut: $0.tokensOut,
                cost: Money.format($0.cost))
        }
        let deadLetters = try await AdminRoutes.deadLetterCounts(backend: backend, as: admin).map {
            Overview.DeadLetters(queue: $0.queue, source: String($0.queue.dropLast(".dead".count)), count: $0.count, any: $0.count > 0)
        }
        let view = Overview(
            chrome: Chrome(title: "Operations", context: context, path: "/portal/admin"), providers: providers,
            providersProblem: providersProblem, days: days, deadLetters: deadLetters,
            replayed: replayed.map { "\($0) message(s) went back to their queue." }, anyDays: !days.isEmpty)
        return views.page("admin", view)
    }

    /// "500 requests and 200000 tokens a minute, 8 at once".
    static func limits(_ status: ProviderStatus) -> String {
        let perMinute = [
            status.requestsPerMinute.map { "\($0) requests" }, status.tokensPerMinute.map { "\($0) tokens" },
        ].compactMap { $0 }
        let parts = [
            perMinute.isEmpty ? nil : perMinute.joined(separator: " and ") + " a minute", status.maxConcurrency.map { "\($0) at once" },
        ].compactMap { $0 }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }

    // MARK: Templates

    private func templatesPage(
        _ context: APIContext, yaml: String = "", issues: [TemplateIssue] = [], status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let admin = try context.admin()
        let items = try await backend.ask(ListTemplates(), as: admin).map {
            TemplatesView.Item(
                code: $0.code, name: $0.name, version: $0.version, builtIn: $0.builtIn, href: "/portal/admin/templates/\($0.code)")
        }
        let wrong = Set(issues.compactMap(\.line))
        let lines =
            issues.isEmpty
            ? []
            : yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map {
                TemplatesView.Line(number: $0.offset + 1, text: String($0.element), problem: wrong.contains($0.offset + 1))
            }
        let view = TemplatesView(
            chrome: Chrome(title: "Templates", context: context, path: "/portal/admin/templates"), templates: items, yaml: yaml,
            issues: issues.map { TemplatesView.Issue(line: $0.line.map { "line \($0)" } ?? "", path: $0.path, message: $0.message) },
            lines: lines, anyIssue: !issues.isEmpty)
        return views.page("templates", view, status: status)
    }

    private func upload(_ context: APIContext) async throws -> Response {
        let admin = try context.admin()
        let yaml = (context.form["yaml"] ?? "").replacingOccurrences(of: "\r\n", with: "\n")
        guard !yaml.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return try await templatesPage(
                context, yaml: yaml, issues: [TemplateIssue(path: "", line: nil, message: "paste the template's YAML first")],
                status: .unprocessableContent)
        }
        let validation = try await backend.ask(ValidateTemplate(yaml: yaml), as: admin)
        guard validation.valid else {
            return try await templatesPage(context, yaml: yaml, issues: validation.issues, status: .unprocessableContent)
        }
        let stored = try await backend.ask(UpsertTemplate(yaml: yaml), as: admin)
        return PortalViews.redirect("/portal/admin/templates/\(stored.code)?uploaded")
    }

    private func template(_ context: APIContext, preview: Bool = false, uploaded: Bool = false) async throws -> Response {
        let admin = try context.admin()
        let read = try await templates.template(try context.parameters.require("code"), version: nil, as: admin)
        let (document, definition) = (read.document, read.definition)
        let previewStage = preview ? context.form["stage"] : nil
        let stages = definition.orderedStages.map { stage in
            TemplateView.Stage(
                sequence: stage.sequence, code: stage.code, name: stage.name, mode: stage.executionMode.rawValue,
                approval: stage.needsApproval ? stage.effectiveApprovalType.rawValue : nil, hasPrompt: stage.prompt != nil,
                selected: stage.code == previewStage)
        }
        var view = TemplateView(
            chrome: Chrome(title: document.summary.name, context: context, path: "/portal/admin/templates"), name: document.summary.name,
            code: document.summary.code, version: document.summary.version, description: document.summary.description, stages: stages,
            promptStages: stages.filter(\.hasPrompt), yaml: document.yaml,
            sampleParams: JSONValue.object(definition.defaultParams ?? [:]).jsonString(pretty: true), uploaded: uploaded)
        if preview {
            view.previewStage = previewStage
            view.sampleParams = context.form["params"] ?? view.sampleParams
            do {
                guard case .object(let params) = try JSONValue.parse(Data(view.sampleParams.utf8)) else {
                    throw APIError.badRequest("the sample parameters must be a JSON object, like {\"page_count\": 3}")
                }
                let rendered = try await backend.ask(
                    PreviewPrompt(code: view.code, version: view.version, stage: view.previewStage ?? "", params: params, context: [:]),
                    as: admin)
                (view.previewSystem, view.previewUser) = (rendered.system, rendered.user)
            } catch let refusal as APIError {
                view.previewProblem = refusal.message
            } catch let refusal as RemoteError {
                view.previewProblem = refusal.message
            } catch {
                view.previewProblem = "the sample parameters are not valid JSON: \(error)"
            }
        }
        return views.page("template", view, status: view.previewProblem == nil ? .ok : .unprocessableContent)
    }
}
