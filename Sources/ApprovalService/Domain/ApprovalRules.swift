import Contracts
import Foundation
import Messaging

/// Why a decision was refused; the caller gets the code and the message.
struct ApprovalRefusal: ReplyableError, Equatable, CustomStringConvertible {
    /// `not-found`, `not-pending`, `expired`, `stale-content`, `not-allowed`, `already-decided` or `invalid`.
    let code: String
    let message: String

    var description: String { "\(code): \(message)" }

    static func notFound(_ message: String) -> ApprovalRefusal { ApprovalRefusal(code: "not-found", message: message) }
    static func invalid(_ message: String) -> ApprovalRefusal { ApprovalRefusal(code: "invalid", message: message) }
    static func notAllowed(_ message: String) -> ApprovalRefusal { ApprovalRefusal(code: "not-allowed", message: message) }
}

/// What an accepted decision changes.
struct DecisionOutcome: Sendable {
    /// The approval after the decision (still `pending` while an `all` approval waits for more approvals).
    var approval: Approval
    /// The event to publish when the decision settled the approval.
    var decided: ApprovalDecided?
    /// The event to publish for a vote that did not settle it (`all` policy).
    var vote: ApprovalVoteRecorded?
}

/// The approval state machine: which decisions are accepted and what they do. Pure, so every transition is tested
/// without a database.
enum ApprovalRules {
    static func decide(_ request: DecideApproval, by identity: Identity, on approval: Approval, at now: Date) throws(ApprovalRefusal)
        -> DecisionOutcome
    {
        guard approval.state == .pending else {
            throw ApprovalRefusal(code: "not-pending", message: "approval \(approval.id) is \(approval.state.rawValue), not pending")
        }
        if let expiresAt = approval.expiresAt, expiresAt <= now {
            throw ApprovalRefusal(code: "expired", message: "approval \(approval.id) expired at \(expiresAt)")
        }
        guard request.contentHash == approval.contentHash else {
            throw ApprovalRefusal(
                code: "stale-content",
                message: "the content changed since you saw it (you decided on \(request.contentHash), it is now \(approval.contentHash)); "
                    + "reload and decide again")
        }
        let filled = try slot(for: identity, in: approval)
        let decision = try validate(request, approval)

        var approval = approval
        var items = approval.items
        var edited = false
        for choice in request.items where choice.decision == .approve {
            guard let text = choice.editedContent, let index = items.firstIndex(where: { $0.id == choice.itemID }) else { continue }
            items[index].content = text
            items[index].contentHash = ContentHash.of(text)
            edited = true
        }
        let record = DecisionRecord(
            decidedBy: identity.description, decision: decision, decidedAt: now, contentHash: request.contentHash,
            feedback: request.feedback, reason: request.reason, items: request.items
        )
        approval.decisions.append(StoredDecision(record: record, filled: filled))
        approval.items = items
        if edited { approval.contentHash = ContentHash.of(items: items) }

        // Under `all`, every decision before this one was an approving vote (any other settles at once).
        let approvedBy = Set(approval.decisions.map(\.filled))
        let settles =
            approval.policy == .any || decision != .approve || approval.escalatedTo.contains(filled)
            || approval.assignees.allSatisfy { approvedBy.contains($0) }
        guard settles else {
            let vote = ApprovalVoteRecorded(
                approvalID: approval.id, projectID: approval.projectID, stageRunID: approval.stageRunID, stage: approval.stage,
                decidedBy: identity.description, decidedAt: now, contentHash: request.contentHash,
                waitingFor: approval.assignees.filter { !approvedBy.contains($0) })
            return DecisionOutcome(approval: approval, decided: nil, vote: vote)
        }
        approval.state =
            switch decision {
            case .approve: .approved
            case .requestChanges: .changesRequested
            case .reject: .rejected
            }
        approval.decidedAt = now
        let event = ApprovalDecided(
            approvalID: approval.id, projectID: approval.projectID, stageRunID: approval.stageRunID, stage: approval.stage,
            decision: decision, decidedBy: approval.decisions.map(\.record.decidedBy), decidedAt: now, contentHash: request.contentHash,
            feedback: request.feedback, reason: request.reason, items: outcomes(of: request, decision: decision, items: items)
        )
        return DecisionOutcome(approval: approval, decided: event, vote: nil)
    }

    /// Expires a pending approval; nil when it was decided first.
    static func expire(_ approval: Approval, at now: Date) -> (Approval, ApprovalExpired)? {
        guard approval.state == .pending else { return nil }
        var approval = approval
        approval.state = .expired
        approval.decidedAt = now
        return (
            approval,
            ApprovalExpired(
                approvalID: approval.id, projectID: approval.projectID, stageRunID: approval.stageRunID, stage: approval.stage,
                expiredAt: now)
        )
    }

    /// Adds the escalation assignees after an unanswered reminder; nil when there is nobody (new) to escalate to.
    static func escalate(_ approval: Approval) -> Approval? {
        guard approval.state == .pending, approval.escalatedTo.isEmpty, !approval.escalateTo.isEmpty else { return nil }
        var approval = approval
        approval.escalatedTo = approval.escalateTo
        return approval
    }

    /// The assignee the decider decides as: under `all`, one that has not approved yet.
    private static func slot(for identity: Identity, in approval: Approval) throws(ApprovalRefusal) -> Assignee {
        let matching = approval.deciders.filter { identity.matches($0) }
        guard !matching.isEmpty else {
            throw .notAllowed(
                "\(identity) may not decide approval \(approval.id); it is assigned to "
                    + approval.deciders.map(\.description).joined(separator: ", "))
        }
        // One person fills one place, however many of the assigned roles they hold.
        guard !approval.decisions.contains(where: { $0.record.decidedBy == identity.description }) else {
            throw ApprovalRefusal(
                code: "already-decided", message: "\(identity) already approved approval \(approval.id); it waits for the other assignees")
        }
        let used = Set(approval.decisions.map(\.filled))
        guard let open = matching.first(where: { !used.contains($0) }) else {
            throw ApprovalRefusal(
                code: "already-decided", message: "\(identity) already approved approval \(approval.id); it waits for the other assignees")
        }
        return open
    }

    /// Checks the decision's parts and returns the decision on the whole.
    private static func validate(_ request: DecideApproval, _ approval: Approval) throws(ApprovalRefusal) -> ApprovalDecision {
        func blank(_ text: String?) -> Bool { (text ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        if request.decision == .reject {
            guard !blank(request.reason) else { throw .invalid("a rejection needs a reason") }
            return .reject
        }
        guard !request.items.isEmpty else {
            if request.decision == .requestChanges { try checkFeedback(request.feedback, approval, what: "requesting changes") }
            return request.decision
        }
        let known = Set(approval.items.map(\.id))
        let named = request.items.map(\.itemID)
        if let unknown = named.first(where: { !known.contains($0) }) {
            throw .invalid(
                "approval \(approval.id) has no item '\(unknown)'; its items are \(approval.items.map(\.id).joined(separator: ", "))")
        }
        guard Set(named).count == named.count else { throw .invalid("an item is decided twice") }
        let missing = approval.items.map(\.id).filter { !named.contains($0) }
        guard missing.isEmpty else { throw .invalid("decide every item; missing: \(missing.joined(separator: ", "))") }
        for item in request.items {
            switch item.decision {
            case .approve: break
            case .requestChanges:
                guard item.editedContent == nil else {
                    throw .invalid("item '\(item.itemID)': an edit comes with approve, not request_changes")
                }
                try checkFeedback(item.feedback, approval, what: "requesting changes to item '\(item.itemID)'")
            case .reject: throw .invalid("item '\(item.itemID)': items are approved or sent back; reject the whole approval instead")
            }
        }
        return request.items.contains { $0.decision == .requestChanges } ? .requestChanges : .approve
    }

    private static func checkFeedback(_ feedback: String?, _ approval: Approval, what: String) throws(ApprovalRefusal) {
        guard approval.allowFeedback else {
            throw .invalid("the \(approval.stage) stage takes no feedback: approve or reject")
        }
        guard !(feedback ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw .invalid("\(what) needs feedback that says what to change")
        }
    }

    private static func outcomes(of request: DecideApproval, decision: ApprovalDecision, items: [ApprovalItem]) -> [ItemOutcome] {
        items.map { item in
            let choice = request.items.first { $0.itemID == item.id }
            let approved = choice.map { $0.decision == .approve } ?? (decision == .approve)
            return ItemOutcome(
                itemID: item.id, approved: approved && decision != .reject, feedback: choice?.feedback, contentHash: item.contentHash,
                editedContent: choice?.editedContent)
        }
    }
}
