import AMQPClient
import Contracts
import Foundation
import GRDB
import Logging
import Messaging
import RuntimeSupport
import ServiceStorage

/// The approval desk: takes `RequestApproval`, decisions and queries, and fires timers. Every state change commits
/// with its events (outbox), its notifications and its activity entries in one transaction.
struct Approvals: Sendable {
    let database: any DatabaseWriter
    let outbox: Outbox
    let links: ReviewLinks
    /// Where webhooks go; each event is sent to every one.
    let webhooks: [String]
    /// Woken when notifications or timers were added.
    let notificationsAdded: WakeSignal
    let timersAdded: WakeSignal
    let logger: Logger
    /// The longest a review link lives (shorter when the approval expires first).
    var linkLifetime: TimeInterval = 7 * 86_400

    // MARK: Requests

    /// Creates the approval, unless this stage run already asked for the same content (then it is the same one).
    func handle(_ message: IncomingMessage) async throws {
        let request = try message.decode(RequestApproval.self).payload
        guard !request.assignees.isEmpty else {
            throw MessageDecodingError(
                queue: message.queue, reason: "RequestApproval for stage run \(request.stageRunID) names no assignees")
        }
        for assignee in request.assignees + request.escalateTo where assignee.kind == .email && !EmailAddress.isValid(assignee.value) {
            throw MessageDecodingError(
                queue: message.queue,
                reason: "RequestApproval for stage run \(request.stageRunID): '\(assignee.value.prefix(100))' is not an email address")
        }
        try await outbox.handleOnce(message, consumer: "approvals") { db in
            try create(
                request,
                context: MessageContext(
                    causedBy: message, idempotencyKey: "approval-requested-\(request.stageRunID)-\(request.contentHash)"), in: db)
        }
        notificationsAdded.signal()
        timersAdded.signal()
    }

    func create(_ request: RequestApproval, context: MessageContext, now: Date = Date(), in db: Database) throws -> [OutgoingMessage] {
        let existing = try Approval.filter(Column("stageRunID") == request.stageRunID && Column("requestedHash") == request.contentHash)
            .fetchOne(db)
        guard existing == nil else { return [] }
        let approval = Approval(request: request, at: now)
        try approval.insert(db)
        if let remindAt = approval.remindAt {
            var timer = TimerRecord(approvalID: approval.id, kind: .reminder, dueAt: remindAt)
            try timer.insert(db)
        }
        if let expiresAt = approval.expiresAt {
            var timer = TimerRecord(approvalID: approval.id, kind: .expiry, dueAt: expiresAt)
            try timer.insert(db)
        }
        try notify(.requested, approval, audience: approval.assignees, now: now, in: db)
        return [
            try .event(
                ApprovalRequested(
                    approvalID: approval.id, projectID: approval.projectID, stageRunID: approval.stageRunID, stage: approval.stage,
                    approvalType: approval.approvalType, summary: approval.summary),
                context: context)
        ]
    }

    // MARK: Decisions

    /// Validates and records a decision; refused with an ``ApprovalRefusal``.
    ///
    /// A portal user is who `actor` says (the Gateway authenticated them, and the envelope carries it); the ids and
    /// roles in the request body are not trusted. An email reviewer is who their review link says.
    func decide(_ request: DecideApproval, actor: Actor?, now: Date = Date()) async throws -> ApprovalView {
        let view = try await outbox.commit { db -> (ApprovalView, [OutgoingMessage]) in
            let (identity, approvalID, link) = try identify(request, actor: actor, now: now, in: db)
            guard let approval = try Approval.fetchOne(db, key: approvalID) else {
                throw ApprovalRefusal.notFound("no approval has the id \(approvalID)")
            }
            let outcome = try ApprovalRules.decide(request, by: identity, on: approval, at: now)
            try outcome.approval.update(db)
            if var link {
                link.usedAt = now
                try link.update(db)
            }
            let context = MessageContext(
                correlationID: approval.projectID, idempotencyKey: "approval-decision-\(approval.id)-\(approval.decisions.count)")
            if let vote = outcome.vote { return (outcome.approval.view, [try .event(vote, context: context)]) }
            guard let decided = outcome.decided else { return (outcome.approval.view, []) }
            try notify(.decided, outcome.approval, audience: [], now: now, in: db)
            return (outcome.approval.view, [try .event(decided, context: context)])
        }
        notificationsAdded.signal()
        return view
    }

    /// Who decides, and which approval: a review link names both; a user names the approval in the request.
    private func identify(
        _ request: DecideApproval, actor: Actor?, now: Date, in db: Database
    ) throws -> (Identity, String, ReviewLinkRecord?) {
        if let token = request.decider.reviewToken {
            let link = try links.link(for: token, now: now, in: db)
            if let named = request.approvalID, named != link.approvalID {
                throw ApprovalRefusal.notAllowed("this review link is for another approval")
            }
            return (.email(link.email), link.approvalID, link)
        }
        guard let actor, !actor.userID.isEmpty else {
            throw ApprovalRefusal.notAllowed("a decision needs a signed-in user (sent through the Gateway) or a review link")
        }
        if let claimed = request.decider.userID, !claimed.isEmpty, claimed != actor.userID {
            throw ApprovalRefusal.notAllowed("signed in as \(actor.userID), but the decision is made in the name of \(claimed)")
        }
        guard let approvalID = request.approvalID else { throw ApprovalRefusal.invalid("say which approval: approvalID is missing") }
        return (.user(id: actor.userID, roles: actor.roles), approvalID, nil)
    }

    // MARK: Queries

    func pending(_ query: ListPendingApprovals) async throws -> [ApprovalView] {
        try await database.read { db in
            var request = Approval.filter(Column("state") == ApprovalState.pending.rawValue)
            if let projectID = query.projectID { request = request.filter(Column("projectID") == projectID) }
            let approvals = try request.order(Column("requestedAt")).fetchAll(db)
            guard query.userID != nil || !query.roles.isEmpty else { return approvals.map(\.view) }
            let identity = Identity.user(id: query.userID ?? "", roles: query.roles)
            return approvals.filter { approval in approval.deciders.contains { identity.matches($0) } }.map(\.view)
        }
    }

    func history(of projectID: String) async throws -> [ApprovalView] {
        try await database.read { db in
            try Approval.filter(Column("projectID") == projectID).order(Column("requestedAt")).fetchAll(db).map(\.view)
        }
    }

    func activity(_ query: ListApprovalActivity) async throws -> [ApprovalActivity] {
        let audiences =
            (query.userID.map { ["user:\($0)"] } ?? []) + query.roles.map { "role:\($0)" }
            + (query.projectID.map { ["project:\($0)"] } ?? [])
        guard !audiences.isEmpty else { throw ApprovalRefusal.invalid("say whose activity: a user id, roles or a project id") }
        return try await database.read { db in
            try ActivityRecord.filter(audiences.contains(Column("audience"))).order(Column("id").desc).limit(max(1, min(query.limit, 500)))
                .fetchAll(db)
                .map {
                    ApprovalActivity(
                        approvalID: $0.approvalID, projectID: $0.projectID, kind: $0.kind.rawValue, text: $0.text, at: $0.createdAt)
                }
        }
    }

    func open(_ token: String, now: Date = Date()) async throws -> ApprovalView {
        try await database.read { db in
            let link = try links.link(for: token, now: now, in: db)
            guard let approval = try Approval.fetchOne(db, key: link.approvalID) else {
                throw ApprovalRefusal.notFound("the approval of this link no longer exists")
            }
            return approval.view
        }
    }

    var handlers: RequestHandlers {
        var handlers = RequestHandlers()
        handlers.on(DecideApproval.self) { envelope, _ in try await decide(envelope.payload, actor: envelope.actor) }
        handlers.on(ListPendingApprovals.self) { envelope, _ in try await pending(envelope.payload) }
        handlers.on(GetApprovalHistory.self) { envelope, _ in try await history(of: envelope.payload.projectID) }
        handlers.on(ListApprovalActivity.self) { envelope, _ in try await activity(envelope.payload) }
        handlers.on(OpenReviewLink.self) { envelope, _ in try await open(envelope.payload.token) }
        return handlers
    }

    // MARK: Timers

    /// Fires one due timer: a reminder (and escalation), or expiry. A timer of a decided approval just ends.
    func fire(_ timer: TimerRecord, now: Date = Date()) async throws {
        try await outbox.commit { db -> (Void, [OutgoingMessage]) in
            guard var timer = try TimerRecord.fetchOne(db, key: timer.id), timer.firedAt == nil else { return ((), []) }
            timer.firedAt = now
            try timer.update(db)
            guard let approval = try Approval.fetchOne(db, key: timer.approvalID), approval.state == .pending else { return ((), []) }
            switch timer.kind {
            case .reminder:
                try notify(.reminder, approval, audience: approval.deciders, now: now, in: db)
                if let escalated = ApprovalRules.escalate(approval) {
                    try escalated.update(db)
                    try notify(.escalated, escalated, audience: escalated.escalatedTo, now: now, in: db)
                }
                return ((), [])
            case .expiry:
                guard let (expired, event) = ApprovalRules.expire(approval, at: now) else { return ((), []) }
                try expired.update(db)
                try notify(.expired, expired, audience: [], now: now, in: db)
                return (
                    (),
                    [
                        try .event(
                            event,
                            context: MessageContext(correlationID: approval.projectID, idempotencyKey: "approval-expired-\(approval.id)"))
                    ]
                )
            }
        }
        notificationsAdded.signal()
    }

    // MARK: Notifications

    /// Emails for email assignees (each with its own review link, issued when sent), portal activity for users and
    /// roles, one entry for the project's feed, and every webhook.
    private func notify(_ kind: NotificationKind, _ approval: Approval, audience: [Assignee], now: Date, in db: Database) throws {
        let text = NotificationTexts.activity(kind, approval)
        let feeds = audience.filter { $0.kind != .email }.map(\.description) + ["project:\(approval.projectID)"]
        for feed in feeds {
            var activity = ActivityRecord(
                approvalID: approval.id, projectID: approval.projectID, audience: feed, kind: kind, text: text, createdAt: now)
            try activity.insert(db)
        }
        let sends =
            audience.filter { $0.kind == .email }.map { (NotificationRecord.Channel.email, $0.value) }
            + webhooks.map { (NotificationRecord.Channel.webhook, $0) }
        for (channel, recipient) in sends {
            var notification = NotificationRecord(approvalID: approval.id, kind: kind, channel: channel, recipient: recipient, at: now)
            try notification.insert(db)
        }
    }
}
