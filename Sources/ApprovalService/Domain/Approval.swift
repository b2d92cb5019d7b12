import Contracts
import Crypto
import Foundation

/// A stored approval: the request, where it stands, and every accepted decision.
struct Approval: Codable, Sendable, Equatable {
    var id: String
    var projectID: String
    var stageRunID: String
    var stage: String
    var approvalType: ApprovalType
    var state: ApprovalState
    /// The hash a decision must name: the requested one, or the one after a reviewer's edit.
    var contentHash: String
    /// The hash the approval was requested for; with the stage run, what makes a repeated request the same approval.
    var requestedHash: String
    var summary: String
    var items: [ApprovalItem]
    var assignees: [Assignee]
    var policy: ApprovalPolicy
    var allowFeedback: Bool
    var escalateTo: [Assignee]
    /// The escalation assignees once a reminder went unanswered; any of them may decide on their own.
    var escalatedTo: [Assignee]
    var requestedAt: Date
    var remindAt: Date?
    var expiresAt: Date?
    var decidedAt: Date?
    var decisions: [StoredDecision]

    /// A new pending approval for `request`.
    init(id: String = UUID().uuidString, request: RequestApproval, at now: Date) {
        self.id = id
        self.projectID = request.projectID
        self.stageRunID = request.stageRunID
        self.stage = request.stage
        self.approvalType = request.approvalType
        self.state = .pending
        self.contentHash = request.contentHash
        self.requestedHash = request.contentHash
        self.summary = request.summary
        self.items = request.items
        self.assignees = request.assignees
        self.policy = request.policy
        self.allowFeedback = request.allowFeedback
        self.escalateTo = request.escalateTo
        self.escalatedTo = []
        self.requestedAt = now
        self.remindAt = request.remindAfterHours.map { now.addingTimeInterval($0 * 3600) }
        self.expiresAt = request.expireAfterDays.map { now.addingTimeInterval($0 * 86_400) }
        self.decisions = []
    }

    /// Everyone who may decide now.
    var deciders: [Assignee] { assignees + escalatedTo }

    var view: ApprovalView {
        ApprovalView(
            id: id, projectID: projectID, stageRunID: stageRunID, stage: stage, approvalType: approvalType, state: state,
            contentHash: contentHash, summary: summary, items: items, assignees: assignees, escalatedTo: escalatedTo, policy: policy,
            allowFeedback: allowFeedback, requestedAt: requestedAt, remindAt: remindAt, expiresAt: expiresAt,
            decisions: decisions.map(\.record)
        )
    }
}

/// An accepted decision and the assignee it counted for.
struct StoredDecision: Codable, Sendable, Equatable {
    var record: DecisionRecord
    /// The assignee this decision filled (under `all`, each assignee approves once).
    var filled: Assignee
}

/// Who is deciding, once their credentials were checked: a portal user with roles, or an email reviewer whose
/// review link was valid.
enum Identity: Sendable, Equatable, CustomStringConvertible {
    case user(id: String, roles: [String])
    case email(String)

    func matches(_ assignee: Assignee) -> Bool {
        switch (self, assignee.kind) {
        case (.user(let id, _), .user): id == assignee.value
        case (.user(_, let roles), .role): roles.contains(assignee.value)
        case (.email(let address), .email): address.lowercased() == assignee.value.lowercased()
        default: false
        }
    }

    var description: String {
        switch self {
        case .user(let id, _): "user:\(id)"
        case .email(let address): "email:\(address)"
        }
    }
}

enum ContentHash {
    /// The SHA-256 of `text`, in hex: how an edited item's new hash is made.
    static func of(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The hash of the whole after items changed: over every item's id and hash, in order.
    static func of(items: [ApprovalItem]) -> String {
        of(items.map { "\($0.id):\($0.contentHash)" }.joined(separator: "\n"))
    }
}
