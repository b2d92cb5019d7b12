import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `/portal`: the signed-in person's projects, with live progress (`/portal/events`, every project of theirs on one
/// stream), and `/portal/approvals`, everything that waits for their decision across their projects.
struct DashboardPages {
    let views: PortalViews
    let backend: Backend
    let live: LiveEvents
    var heartbeat: Duration = .seconds(15)

    struct View {
        var chrome: Chrome
        var projects: [ProjectRow]
        var waiting: Int
        var next: String?
        /// Stored, not computed: Mustache reads a view by reflection, which sees only stored properties.
        let empty: Bool

        init(chrome: Chrome, projects: [ProjectRow], waiting: Int, next: String?) {
            (self.chrome, self.projects, self.waiting, self.next, empty) = (chrome, projects, waiting, next, projects.isEmpty)
        }
    }

    struct InboxView {
        struct Item {
            var title: String
            var project: String
            var stage: String
            var requested: String
            var items: Int
            var href: String
        }
        var chrome: Chrome
        var approvals: [Item]
        /// Stored for the same reason as ``View/empty``.
        let any: Bool

        init(chrome: Chrome, approvals: [Item]) {
            (self.chrome, self.approvals, any) = (chrome, approvals, !approvals.isEmpty)
        }
    }

    func add(to portal: RouterGroup<APIContext>) {
        portal.get("") { request, context in try await dashboard(request, context) }
        portal.get("approvals") { _, context in try await inbox(context) }
        portal.get("events") { _, context in try stream(context) }
    }

    private func dashboard(_ request: Request, _ context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let page = try await backend.ask(
            ListProjects(ownerID: caller.userID, cursor: request.uri.queryParameters["after"].map(String.init), limit: 50), as: caller)
        let waiting =
            (try? await backend.ask(ListPendingApprovals(userID: caller.userID, roles: caller.actor.roles), as: caller))?.count ?? 0
        let view = View(
            chrome: Chrome(title: "Your projects", context: context, path: "/portal"),
            projects: page.projects.map(ProjectRow.init), waiting: waiting, next: page.next.map { "/portal?after=\($0)" })
        return views.page("dashboard", view)
    }

    private func inbox(_ context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let pending = try await backend.ask(ListPendingApprovals(userID: caller.userID, roles: caller.actor.roles), as: caller)
        var names: [String: String] = [:]
        for id in Set(pending.map(\.projectID)) {
            names[id] = (try? await backend.ask(GetProject(projectID: id), as: caller))?.project.name ?? "a project"
        }
        let items = pending.map { approval in
            InboxView.Item(
                title: approval.summary, project: names[approval.projectID] ?? "a project", stage: approval.stage,
                requested: Dates.short(approval.requestedAt), items: approval.items.count, href: "/portal/approvals/\(approval.id)")
        }
        return views.page(
            "approvals", InboxView(chrome: Chrome(title: "Approvals", context: context, path: "/portal/approvals"), approvals: items))
    }

    /// Every new log entry of the caller's projects: `event: project`, the project's id with the entry.
    private func stream(_ context: APIContext) throws -> Response {
        let caller = try context.caller()
        let events = EventStreamRoute.withHeartbeat(live.subscribe(owner: caller.userID), every: heartbeat)
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: ": live\n\n"))
            for await event in events {
                switch event {
                case .owned(let projectID, let entry):
                    struct Frame: Encodable {
                        var projectID: String
                        var state: String
                        var stateLabel: String
                        var progress: Int
                        var message: String
                    }
                    let frame = Frame(
                        projectID: projectID, state: entry.state.rawValue, stateLabel: ProjectRow.label(entry.state),
                        progress: entry.progress,
                        message: entry.message)
                    let data = String(decoding: (try? JSONEncoder().encode(frame)) ?? Data(), as: UTF8.self)
                    try await writer.write(ByteBuffer(string: "event: project\ndata: \(data)\n\n"))
                case nil:
                    try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                default:
                    break
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: EventStreamRoute.headers, body: body)
    }
}
