import Contracts
import Foundation
import Hummingbird
import Messaging
import WorkflowKit

/// `/portal/projects/{id}`: where a project stands (the stage timeline), its tasks with a preview of their
/// content, text appearing live while it is written, its files, the published address, what it cost, and the
/// buttons that pause, resume, retry or continue it. Its event stream and its files are the API's routes, mounted
/// here so the session cookie is the credential.
struct ProjectPages {
    let views: PortalViews
    let backend: Backend
    let live: LiveEvents
    let templates: TemplateVersions

    /// The commands a person can give from the page.
    static let actions: [ProjectAction] = [.start, .pause, .resume, .retry, .advance]

    struct Page {
        struct Stage {
            var name: String
            var status: String
            var statusLabel: String
            var current: Bool
        }
        struct Task {
            var id: String
            var title: String
            var state: String
            var stateLabel: String
            var preview: String?
            var error: String?
            var feedback: String?
            var writing: Bool
        }
        struct StageTasks {
            var name: String
            var tasks: [Task]
        }
        struct File {
            var name: String
            var size: String
            var href: String
        }
        struct Link {
            var label: String
            var url: String
            /// For a survey form: its owner's page of answers.
            var answers: String?
        }
        struct Command {
            var action: String
            var label: String
            /// Resuming a project its budget paused takes a larger one.
            var askBudget = false
        }
        struct Approval {
            var title: String
            var href: String
        }
        var chrome: Chrome
        var project: ProjectRow
        var problem: String?
        var timeline: [Stage]
        var stages: [StageTasks]
        var files: [File]
        var published: [Link]
        var usage: [ProjectRoutes.Usage.Line]
        var total: String
        var budget: String?
        var commands: [Command]
        var approvals: [Approval]
        var offline: Bool
        var events: String
        let anyFiles: Bool
        let anyUsage: Bool
    }

    func add(to portal: RouterGroup<APIContext>) {
        portal.get("projects/:id") { _, context in try await page(context) }
        for action in Self.actions {
            portal.post("projects/:id/\(action.rawValue)") { _, context in
                let id = try context.parameters.require("id")
                // Resuming a project its budget paused takes a larger one.
                let budget = context.form.text("budget").flatMap(Money.dollars)
                _ = try await backend.ask(ChangeProject(projectID: id, action: action, budget: budget), as: try context.caller())
                return PortalViews.redirect("/portal/projects/\(id)")
            }
        }
        EventStreamRoute(backend: backend, live: live).add(to: portal)
        ArtifactRoutes(backend: backend).add(to: portal)
    }

    private func page(_ context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let detail = try await backend.ask(GetProject(projectID: try context.parameters.require("id")), as: caller)
        let project = detail.project
        let definition = try await templates.template(project.template, version: project.templateVersion, as: caller).definition
        let pending = (try? await backend.ask(ListPendingApprovals(projectID: project.id), as: caller)) ?? []
        let usage = ProjectRoutes.usage(of: detail)
        let view = Page(
            chrome: Chrome(title: project.name, context: context, path: "/portal"), project: ProjectRow(project),
            problem: project.state == .failed || project.state == .paused ? project.message : nil,
            timeline: Self.timeline(definition, detail), stages: Self.tasks(definition, detail),
            files: detail.artifacts.map { artifact in
                Page.File(
                    name: artifact.name, size: ByteCountFormatter.string(fromByteCount: Int64(artifact.size), countStyle: .file),
                    href: "/portal/projects/\(project.id)/artifacts/\(artifact.id)/content")
            },
            published: Self.published(detail), usage: usage.lines, total: Money.format(usage.cost),
            budget: project.budget.map(Money.format),
            commands: Self.commands(project),
            approvals: pending.map { Page.Approval(title: $0.summary, href: "/portal/approvals/\($0.id)") },
            offline: detail.tasks.contains { $0.provider == "local" },
            events: "/portal/projects/\(project.id)/events?after=\(project.lastEvent)", anyFiles: !detail.artifacts.isEmpty,
            anyUsage: !usage.lines.isEmpty)
        return views.page("project", view)
    }

    /// Every stage in order: done, the one at work (or waiting for the person), and those to come.
    static func timeline(_ definition: WorkflowDefinition, _ detail: ProjectDetail) -> [Page.Stage] {
        let project = detail.project
        let stages = definition.orderedStages
        let currentIndex = stages.firstIndex { $0.code == project.stage }
        return stages.enumerated().map { index, stage in
            let current = stage.code == project.stage
            let ran = detail.stageRuns.contains { $0.stage == stage.code }
            let status: (String, String)
            if current {
                status =
                    switch project.state {
                    case .approvalPending: ("waiting", "Waiting for your approval")
                    case .running where project.waitingFor == .advance: ("waiting", "Waiting for you to continue")
                    case .running: ("running", "Working on it")
                    case .paused: ("paused", "Paused")
                    case .failed: ("failed", "Stopped by a problem")
                    case .done: ("done", "Done")
                    case .draft: ("todo", "Not started")
                    }
            } else if project.state == .done || (currentIndex.map { index < $0 } ?? false) {
                status = ran ? ("done", "Done") : ("skipped", "Not needed")
            } else {
                status = ("todo", "To come")
            }
            return Page.Stage(name: stage.name, status: status.0, statusLabel: status.1, current: current)
        }
    }

    /// The tasks of each stage's latest round, with their previews.
    static func tasks(_ definition: WorkflowDefinition, _ detail: ProjectDetail) -> [Page.StageTasks] {
        definition.orderedStages.compactMap { stage in
            let runs = detail.stageRuns.filter { $0.stage == stage.code }
            guard let latest = runs.max(by: { $0.round < $1.round }) else { return nil }
            let tasks = detail.tasks.filter { $0.stageRunID == latest.id }.sorted { $0.index < $1.index }
            guard !tasks.isEmpty else { return nil }
            return Page.StageTasks(
                name: stage.name,
                tasks: tasks.map { task in
                    Page.Task(
                        id: task.id, title: task.title, state: task.state.rawValue, stateLabel: label(task.state),
                        preview: task.content.map(ContentPreview.html), error: task.error, feedback: task.feedback,
                        writing: task.state == .queued || task.state == .processing)
                })
        }
    }

    static func label(_ state: TaskState) -> String {
        switch state {
        case .pending: "To do"
        case .queued: "Waiting for the writer"
        case .processing: "Being written"
        case .done: "Written"
        case .failed: "Failed"
        }
    }

    /// The addresses the project's actions published (a website, a survey form).
    static func published(_ detail: ProjectDetail) -> [Page.Link] {
        detail.tasks.compactMap { task in
            guard let content = task.content, case .object(let output)? = try? JSONValue.parse(Data(content.utf8)),
                let url = output["url"]?.stringValue, url.hasPrefix("http://") || url.hasPrefix("https://")
            else { return nil }
            let survey = output["survey"] != nil
            return Page.Link(
                label: survey ? "Your survey form" : "Your website", url: url,
                answers: survey ? "/portal/projects/\(detail.project.id)/survey" : nil)
        }
    }

    static func commands(_ project: ProjectView) -> [Page.Command] {
        switch project.state {
        case .draft: [.init(action: "start", label: "Start")]
        case .running where project.waitingFor == .advance:
            [.init(action: "advance", label: "Continue"), .init(action: "pause", label: "Pause")]
        case .running, .approvalPending: [.init(action: "pause", label: "Pause")]
        case .paused: [.init(action: "resume", label: "Resume", askBudget: project.reason == .budget)]
        case .failed: [.init(action: "retry", label: "Try again")]
        case .done: []
        }
    }
}
