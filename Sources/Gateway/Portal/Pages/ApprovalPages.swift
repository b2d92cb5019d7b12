import Contracts
import Foundation
import Hummingbird
import Messaging

/// `/portal/approvals/{id}` for a signed-in person and `/review/{token}` for the bearer of an approval e-mail's
/// single-use link: what is being approved, shown as it will be, what changed since the version the reviewer sent
/// back, and per item approve, request changes with feedback, or edit then approve; or reject the whole with a reason.
struct ApprovalPages {
    let views: PortalViews
    let backend: Backend

    struct Page {
        struct Item {
            var id: String
            var title: String
            var preview: String?
            var diff: String?
            var content: String
            var feedbackError: String?
            var approveChosen: Bool
            var changesChosen: Bool
            var editChosen: Bool
            var feedback: String
            var allowFeedback: Bool
        }
        var chrome: Chrome
        var heading: String
        var summary: String
        var stage: String
        var project: String?
        var requested: String
        var expires: String?
        var action: String
        var contentHash: String
        var items: [Item]
        var allowFeedback: Bool
        var reasonError: String?
        var reason: String
        let anyProblem: Bool
    }

    struct Done {
        var chrome: Chrome
        var heading: String
        var message: String
    }

    /// Where the page was opened from: the signed-in inbox or a review link.
    enum Access {
        case person(Identity, approvalID: String)
        case link(String)

        var decider: Decider {
            switch self {
            case .person(let caller, _): .user(caller.userID, roles: caller.actor.roles)
            case .link(let token): .reviewLink(token)
            }
        }

        var identity: Identity? {
            if case .person(let caller, _) = self { caller } else { nil }
        }
    }

    func add(portal: RouterGroup<APIContext>, review: RouterGroup<APIContext>) {
        portal.get("approvals/:id") { _, context in
            let access = try Self.person(context)
            return await page(try await open(access), access: access, context: context)
        }
        portal.post("approvals/:id") { _, context in try await decide(try Self.person(context), context: context) }
        review.get(":token") { request, context in
            let access = Access.link(try context.parameters.require("token"))
            return try await reviewPage(request, context) {
                await page(try await open(access), access: access, context: context, formToken: $0)
            }
        }
        review.post(":token") { request, context in
            let access = Access.link(try context.parameters.require("token"))
            return try await reviewPage(request, context) { _ in try await decide(access, context: context) }
        }
    }

    private static func person(_ context: APIContext) throws -> Access {
        .person(try context.caller(), approvalID: try context.parameters.require("id"))
    }

    /// A review link's pages carry the form token in a cookie of their own, as they have no session.
    private func reviewPage(_ request: Request, _ context: APIContext, _ body: (String) async throws -> Response) async throws -> Response {
        let token = FormToken.current(request)
        var response = try await body(token)
        FormToken.set(token, on: &response, for: request)
        return response
    }

    private func open(_ access: Access) async throws -> ApprovalView {
        switch access {
        case .person(let caller, let id):
            let pending = try await backend.ask(ListPendingApprovals(userID: caller.userID, roles: caller.actor.roles), as: caller)
            guard let approval = pending.first(where: { $0.id == id }) else {
                throw APIError.notFound("This approval no longer waits for you: it was decided, or it is not yours to decide.")
            }
            return approval
        case .link(let token):
            let approval: ApprovalView
            do {
                approval = try await backend.ask(OpenReviewLink(token: token), as: nil)
            } catch let refusal as RemoteError where refusal.code != "unavailable" {
                throw PortalRefusal(
                    status: .gone, title: "This review link no longer works",
                    message:
                        "It was used already, it expired, or it is not a whole link (\(refusal.message)). The project's owner can send a new one."
                )
            }
            guard approval.state == .pending else {
                throw PortalRefusal(
                    status: .gone, title: "This was decided already",
                    message: "Someone decided this approval before you opened the link; nothing is left to do here.")
            }
            return approval
        }
    }

    private func decide(_ access: Access, context: APIContext) async throws -> Response {
        let approval = try await open(access)
        let form = context.form
        let approvalID: String? = if case .person(_, let id) = access { id } else { nil }
        let decision: DecideApproval
        var problems: [String: String] = [:]
        if form["decision"] == "reject" {
            guard let reason = form.text("reason") else {
                problems["reason"] = "Say why, so the project's owner knows what happened."
                return await page(approval, access: access, context: context, problems: problems, status: .unprocessableContent)
            }
            decision = DecideApproval(
                approvalID: approvalID, decider: access.decider, decision: .reject, contentHash: approval.contentHash, reason: reason)
        } else {
            let choices = Self.items(of: approval).map { item -> ItemDecision in
                let key = "item.\(item.id)"
                switch form["\(key).decision"] {
                case "changes":
                    let feedback = form.text("\(key).feedback")
                    if feedback == nil { problems[item.id] = "Say what to change." }
                    return ItemDecision(itemID: item.id, decision: .requestChanges, feedback: feedback)
                case "edit":
                    return ItemDecision(itemID: item.id, decision: .approve, editedContent: form["\(key).content"])
                default:
                    return ItemDecision(itemID: item.id, decision: .approve)
                }
            }
            guard problems.isEmpty else {
                return await page(approval, access: access, context: context, problems: problems, status: .unprocessableContent)
            }
            let whole: ApprovalDecision = choices.contains { $0.decision == .requestChanges } ? .requestChanges : .approve
            // An approval without items is decided as a whole; its one "item" is the approval itself.
            decision =
                approval.items.isEmpty
                ? DecideApproval(
                    approvalID: approvalID, decider: access.decider, decision: whole, contentHash: approval.contentHash,
                    feedback: choices.first?.feedback)
                : DecideApproval(
                    approvalID: approvalID, decider: access.decider, decision: whole, contentHash: approval.contentHash, items: choices)
        }
        let decided = try await backend.ask(decision, as: access.identity)
        if access.identity != nil { return PortalViews.redirect("/portal/projects/\(decided.projectID)") }
        let message =
            switch decision.decision {
            case .approve: "Thank you: it is approved, and the project goes on."
            case .requestChanges: "Thank you: your feedback was sent, and a new version is being written."
            case .reject: "Thank you: it is rejected, and the project's owner is told why."
            }
        return views.page(
            "decided", Done(chrome: Chrome(title: "Decision recorded", context: context), heading: "Decision recorded", message: message))
    }

    /// The approval's items; one standing for the whole when it has none.
    private static func items(of approval: ApprovalView) -> [ApprovalItem] {
        approval.items.isEmpty ? [ApprovalItem(id: "all", title: approval.summary, contentHash: approval.contentHash)] : approval.items
    }

    private func page(
        _ approval: ApprovalView, access: Access, context: APIContext, formToken: String? = nil, problems: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async -> Response {
        let previous = await previousVersion(of: approval, as: access.identity)
        let project = access.identity == nil ? nil : try? await backend.ask(GetProject(projectID: approval.projectID), as: access.identity)
        let form = context.form
        let items = Self.items(of: approval).map { item in
            let key = "item.\(item.id)"
            let chosen = form["\(key).decision"] ?? "approve"
            return Page.Item(
                id: item.id, title: item.title, preview: item.content.map(ContentPreview.html),
                diff: (previous[item.id] ?? previous["title:" + item.title]).flatMap { old in
                    item.content.flatMap { LineDiff.html(old, $0) }
                },
                content: form["\(key).content"] ?? item.content ?? "", feedbackError: problems[item.id],
                approveChosen: chosen == "approve", changesChosen: chosen == "changes", editChosen: chosen == "edit",
                feedback: form["\(key).feedback"] ?? "",
                allowFeedback: approval.allowFeedback)
        }
        let action: String =
            switch access {
            case .person(_, let id): "/portal/approvals/\(id)"
            case .link(let token): "/review/\(token)"
            }
        let view = Page(
            chrome: Chrome(title: "Review: \(approval.summary)", context: context, path: "/portal/approvals", formToken: formToken),
            heading: Self.heading(approval.approvalType), summary: approval.summary, stage: approval.stage, project: project?.project.name,
            requested: Dates.short(approval.requestedAt), expires: approval.expiresAt.map(Dates.short), action: action,
            contentHash: approval.contentHash, items: items, allowFeedback: approval.allowFeedback, reasonError: problems["reason"],
            reason: form["reason"] ?? "", anyProblem: !problems.isEmpty)
        return views.page("approval", view, status: status)
    }

    /// The items' content as the reviewer last sent it back: the latest earlier approval of the same stage that
    /// asked for changes.
    private func previousVersion(of approval: ApprovalView, as identity: Identity?) async -> [String: String] {
        guard let history = try? await backend.ask(GetApprovalHistory(projectID: approval.projectID), as: identity),
            let earlier = history.last(where: {
                $0.stage == approval.stage && $0.id != approval.id && $0.requestedAt <= approval.requestedAt
                    && $0.state == .changesRequested
            })
        else { return [:] }
        // By id, and by title for the items a new round wrote as new tasks.
        let keyed = earlier.items.flatMap { item in item.content.map { [(item.id, $0), ("title:" + item.title, $0)] } ?? [] }
        return Dictionary(keyed, uniquingKeysWith: { first, _ in first })
    }

    static func heading(_ type: ApprovalType) -> String {
        switch type {
        case .design: "Approve the design"
        case .content: "Approve the content"
        case .final: "Approve the result"
        }
    }
}
