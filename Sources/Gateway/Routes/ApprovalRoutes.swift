import Contracts
import Foundation
import Hummingbird

/// `/api/v1/approvals`: what waits for the caller across their projects, one approval, deciding it, and a
/// project's approval history.
struct ApprovalRoutes {
    let backend: Backend

    struct DecideBody: APIBody {
        static let fields: Set<String> = ["decision", "contentHash", "feedback", "reason", "items"]
        var decision: ApprovalDecision
        var contentHash: String
        var feedback: String?
        var reason: String?
        var items: [ItemDecision]?
    }

    func add(to group: RouterGroup<APIContext>) {
        group.get("approvals") { _, context in
            JSONResponse(try await pending(try context.caller()))
        }
        group.get("approvals/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let approval = try await pending(try context.caller()).first(where: { $0.id == id }) else {
                throw APIError.notFound("no approval with the id '\(id)' waits for you")
            }
            return JSONResponse(approval)
        }
        group.post("approvals/:id/decision") { request, context in
            var request = request
            let caller = try context.caller()
            let body = try await request.decodeBody(as: DecideBody.self, context: context)
            let decide = DecideApproval(
                approvalID: try context.parameters.require("id"), decider: .user(caller.userID, roles: caller.actor.roles),
                decision: body.decision, contentHash: body.contentHash, feedback: body.feedback, reason: body.reason,
                items: body.items ?? [])
            return JSONResponse(try await backend.ask(decide, as: caller))
        }
        group.get("projects/:id/approvals") { _, context in
            let caller = try context.caller()
            let id = try context.parameters.require("id")
            _ = try await backend.ask(GetProject(projectID: id), as: caller)  // a 404 for a project that is not the caller's
            return JSONResponse(try await backend.ask(GetApprovalHistory(projectID: id), as: caller))
        }
    }

    private func pending(_ caller: Identity) async throws -> [ApprovalView] {
        try await backend.ask(ListPendingApprovals(userID: caller.userID, roles: caller.actor.roles), as: caller)
    }
}
