import Foundation

/// What an approval gate covers (a stage's `approval_type`).
public enum ApprovalType: String, Codable, Sendable, CaseIterable {
    case design, content, final
}

/// How the assignees decide: the first decision wins, or every assignee approves (any request for changes or
/// rejection decides at once).
public enum ApprovalPolicy: String, Codable, Sendable {
    case any, all
}

/// A decision on a whole approval or on one item.
public enum ApprovalDecision: String, Codable, Sendable {
    case approve
    case requestChanges = "request_changes"
    case reject
}

/// Where an approval stands.
public enum ApprovalState: String, Codable, Sendable {
    case pending, approved
    case changesRequested = "changes_requested"
    case rejected, expired
}

/// Who may decide: a portal user, anyone with a role, or a person reached by email, who decides through a review link.
public struct Assignee: Codable, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable {
        case user, role, email
    }

    public var kind: Kind
    public var value: String

    public init(kind: Kind, value: String) {
        self.kind = kind
        self.value = value
    }

    public static func user(_ id: String) -> Assignee { Assignee(kind: .user, value: id) }
    public static func role(_ name: String) -> Assignee { Assignee(kind: .role, value: name) }
    public static func email(_ address: String) -> Assignee { Assignee(kind: .email, value: address) }

    public var description: String { "\(kind.rawValue):\(value)" }
}

/// One reviewable part of the content, with its own hash.
public struct ApprovalItem: Codable, Sendable, Equatable {
    public var id: String
    public var title: String
    public var contentHash: String
    /// The text a reviewer sees (and may edit before approving).
    public var content: String?

    public init(id: String, title: String, contentHash: String, content: String? = nil) {
        self.id = id
        self.title = title
        self.contentHash = contentHash
        self.content = content
    }
}

/// Asks for a decision on a stage's content. The same stage run and content hash again is the same approval.
public struct RequestApproval: Command {
    public static let type = "approval.request.v1"

    public var projectID: String
    public var stageRunID: String
    public var stage: String
    public var approvalType: ApprovalType
    public var contentHash: String
    public var summary: String
    public var items: [ApprovalItem]
    public var assignees: [Assignee]
    public var policy: ApprovalPolicy
    /// Whether `request_changes` is allowed; when it is, feedback is required with it.
    public var allowFeedback: Bool
    /// A reminder (and escalation, when `escalateTo` is set) after this many hours without a decision.
    public var remindAfterHours: Double?
    /// The approval expires after this many days; without it, it waits for ever.
    public var expireAfterDays: Double?
    /// Who may decide once the reminder went unanswered.
    public var escalateTo: [Assignee]

    public init(
        projectID: String, stageRunID: String, stage: String, approvalType: ApprovalType, contentHash: String, summary: String,
        items: [ApprovalItem] = [], assignees: [Assignee], policy: ApprovalPolicy = .any, allowFeedback: Bool = true,
        remindAfterHours: Double? = nil, expireAfterDays: Double? = nil, escalateTo: [Assignee] = []
    ) {
        self.projectID = projectID
        self.stageRunID = stageRunID
        self.stage = stage
        self.approvalType = approvalType
        self.contentHash = contentHash
        self.summary = summary
        self.items = items
        self.assignees = assignees
        self.policy = policy
        self.allowFeedback = allowFeedback
        self.remindAfterHours = remindAfterHours
        self.expireAfterDays = expireAfterDays
        self.escalateTo = escalateTo
    }
}

/// The person deciding: a signed-in portal user with their roles, or the bearer of a review link.
public struct Decider: Codable, Sendable, Equatable {
    public var userID: String?
    public var roles: [String]
    /// The token of a review link: the only credential an email reviewer has.
    public var reviewToken: String?

    public init(userID: String? = nil, roles: [String] = [], reviewToken: String? = nil) {
        self.userID = userID
        self.roles = roles
        self.reviewToken = reviewToken
    }

    public static func user(_ id: String, roles: [String] = []) -> Decider { Decider(userID: id, roles: roles) }
    public static func reviewLink(_ token: String) -> Decider { Decider(reviewToken: token) }
}

/// A decision on one item: approve (optionally with an edited text, which becomes the approved content) or request
/// changes with feedback.
public struct ItemDecision: Codable, Sendable, Equatable {
    public var itemID: String
    public var decision: ApprovalDecision
    public var feedback: String?
    public var editedContent: String?

    public init(itemID: String, decision: ApprovalDecision, feedback: String? = nil, editedContent: String? = nil) {
        self.itemID = itemID
        self.decision = decision
        self.feedback = feedback
        self.editedContent = editedContent
    }
}

/// Decides an approval. Refused (with a clear code and message) when it is no longer pending, the content changed
/// since (`contentHash`), or the decider may not decide it.
public struct DecideApproval: Request {
    public static let type = "approval.decide.v1"
    public typealias Reply = ApprovalView

    /// The approval; may be left out when the decider holds a review link, which names it.
    public var approvalID: String?
    public var decider: Decider
    /// `approve`, `request_changes` or `reject` for the whole; with `items`, the items decide and this is ignored
    /// unless it is `reject`.
    public var decision: ApprovalDecision
    /// The content hash the decider saw.
    public var contentHash: String
    public var feedback: String?
    public var reason: String?
    public var items: [ItemDecision]

    public init(
        approvalID: String?, decider: Decider, decision: ApprovalDecision, contentHash: String, feedback: String? = nil,
        reason: String? = nil, items: [ItemDecision] = []
    ) {
        self.approvalID = approvalID
        self.decider = decider
        self.decision = decision
        self.contentHash = contentHash
        self.feedback = feedback
        self.reason = reason
        self.items = items
    }
}

/// The pending approvals a person may decide (by user id, roles or email), or those of a project.
public struct ListPendingApprovals: Request {
    public static let type = "approval.list-pending.v1"
    public typealias Reply = [ApprovalView]

    public var userID: String?
    public var roles: [String]
    public var projectID: String?

    public init(userID: String? = nil, roles: [String] = [], projectID: String? = nil) {
        self.userID = userID
        self.roles = roles
        self.projectID = projectID
    }
}

/// Every approval of a project with its decisions, oldest first: the audit trail.
public struct GetApprovalHistory: Request {
    public static let type = "approval.history.v1"
    public typealias Reply = [ApprovalView]

    public var projectID: String

    public init(projectID: String) {
        self.projectID = projectID
    }
}

/// What a review link shows, checked but not used up.
public struct OpenReviewLink: Request {
    public static let type = "approval.open-review-link.v1"
    public typealias Reply = ApprovalView

    public var token: String

    public init(token: String) {
        self.token = token
    }
}

/// One accepted decision (under `all`, each approving vote is one) as the audit trail keeps it.
public struct DecisionRecord: Codable, Sendable, Equatable {
    public var decidedBy: String
    public var decision: ApprovalDecision
    public var decidedAt: Date
    public var contentHash: String
    public var feedback: String?
    public var reason: String?
    public var items: [ItemDecision]

    public init(
        decidedBy: String, decision: ApprovalDecision, decidedAt: Date, contentHash: String, feedback: String?, reason: String?,
        items: [ItemDecision]
    ) {
        self.decidedBy = decidedBy
        self.decision = decision
        self.decidedAt = decidedAt
        self.contentHash = contentHash
        self.feedback = feedback
        self.reason = reason
        self.items = items
    }
}

/// An approval as the portal and the audit trail show it.
public struct ApprovalView: Codable, Sendable, Equatable {
    public var id: String
    public var projectID: String
    public var stageRunID: String
    public var stage: String
    public var approvalType: ApprovalType
    public var state: ApprovalState
    public var contentHash: String
    public var summary: String
    public var items: [ApprovalItem]
    public var assignees: [Assignee]
    public var escalatedTo: [Assignee]
    public var policy: ApprovalPolicy
    public var allowFeedback: Bool
    public var requestedAt: Date
    public var remindAt: Date?
    public var expiresAt: Date?
    public var decisions: [DecisionRecord]

    public init(
        id: String, projectID: String, stageRunID: String, stage: String, approvalType: ApprovalType, state: ApprovalState,
        contentHash: String, summary: String, items: [ApprovalItem], assignees: [Assignee], escalatedTo: [Assignee],
        policy: ApprovalPolicy, allowFeedback: Bool, requestedAt: Date, remindAt: Date?, expiresAt: Date?, decisions: [DecisionRecord]
    ) {
        self.id = id
        self.projectID = projectID
        self.stageRunID = stageRunID
        self.stage = stage
        self.approvalType = approvalType
        self.state = state
        self.contentHash = contentHash
        self.summary = summary
        self.items = items
        self.assignees = assignees
        self.escalatedTo = escalatedTo
        self.policy = policy
        self.allowFeedback = allowFeedback
        self.requestedAt = requestedAt
        self.remindAt = remindAt
        self.expiresAt = expiresAt
        self.decisions = decisions
    }
}

/// A new approval is waiting (for live progress in the portal).
public struct ApprovalRequested: Event {
    public static let type = "approval.requested.v1"

    public var approvalID: String
    public var projectID: String
    public var stageRunID: String
    public var stage: String
    public var approvalType: ApprovalType
    public var summary: String

    public init(approvalID: String, projectID: String, stageRunID: String, stage: String, approvalType: ApprovalType, summary: String) {
        self.approvalID = approvalID
        self.projectID = projectID
        self.stageRunID = stageRunID
        self.stage = stage
        self.approvalType = approvalType
        self.summary = summary
    }
}

/// The outcome of one item in a decided approval.
public struct ItemOutcome: Codable, Sendable, Equatable {
    public var itemID: String
    public var approved: Bool
    public var feedback: String?
    /// The approved content's hash: the reviewer's edit's when they edited it.
    public var contentHash: String
    /// The reviewer's edited text, which is the approved content (no regeneration).
    public var editedContent: String?

    public init(itemID: String, approved: Bool, feedback: String?, contentHash: String, editedContent: String?) {
        self.itemID = itemID
        self.approved = approved
        self.feedback = feedback
        self.contentHash = contentHash
        self.editedContent = editedContent
    }
}

/// An approval was decided: approved, changes requested (regenerate with the feedback, only unapproved items when
/// items were decided one by one), or rejected.
public struct ApprovalDecided: Event, ProjectScoped {
    public static let type = "approval.decided.v1"

    public var approvalID: String
    public var projectID: String
    public var stageRunID: String
    public var stage: String
    public var decision: ApprovalDecision
    /// Everyone whose decision counted, in order.
    public var decidedBy: [String]
    public var decidedAt: Date
    /// The content hash the decision covered.
    public var contentHash: String
    public var feedback: String?
    public var reason: String?
    public var items: [ItemOutcome]

    public init(
        approvalID: String, projectID: String, stageRunID: String, stage: String, decision: ApprovalDecision, decidedBy: [String],
        decidedAt: Date, contentHash: String, feedback: String?, reason: String?, items: [ItemOutcome]
    ) {
        self.approvalID = approvalID
        self.projectID = projectID
        self.stageRunID = stageRunID
        self.stage = stage
        self.decision = decision
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
        self.contentHash = contentHash
        self.feedback = feedback
        self.reason = reason
        self.items = items
    }
}

/// An approving vote under the `all` policy was recorded; the approval still waits for the assignees named in
/// `waitingFor`. (A vote that settles the approval is an ``ApprovalDecided``.)
public struct ApprovalVoteRecorded: Event {
    public static let type = "approval.vote-recorded.v1"

    public var approvalID: String
    public var projectID: String
    public var stageRunID: String
    public var stage: String
    public var decidedBy: String
    public var decidedAt: Date
    /// The content hash the vote covered.
    public var contentHash: String
    public var waitingFor: [Assignee]

    public init(
        approvalID: String, projectID: String, stageRunID: String, stage: String, decidedBy: String, decidedAt: Date,
        contentHash: String, waitingFor: [Assignee]
    ) {
        self.approvalID = approvalID
        self.projectID = projectID
        self.stageRunID = stageRunID
        self.stage = stage
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
        self.contentHash = contentHash
        self.waitingFor = waitingFor
    }
}

/// Nobody decided in time: the project fails with `failure_reason = expired`.
public struct ApprovalExpired: Event, ProjectScoped {
    public static let type = "approval.expired.v1"

    public var approvalID: String
    public var projectID: String
    public var stageRunID: String
    public var stage: String
    public var expiredAt: Date

    public init(approvalID: String, projectID: String, stageRunID: String, stage: String, expiredAt: Date) {
        self.approvalID = approvalID
        self.projectID = projectID
        self.stageRunID = stageRunID
        self.stage = stage
        self.expiredAt = expiredAt
    }
}

/// The portal's activity feed: what happened to the approvals a person may decide (by user id and roles) or to a
/// project's approvals, newest first.
public struct ListApprovalActivity: Request {
    public static let type = "approval.activity.v1"
    public typealias Reply = [ApprovalActivity]

    public var userID: String?
    public var roles: [String]
    public var projectID: String?
    public var limit: Int

    public init(userID: String? = nil, roles: [String] = [], projectID: String? = nil, limit: Int = 50) {
        self.userID = userID
        self.roles = roles
        self.projectID = projectID
        self.limit = limit
    }
}

/// One entry of the activity feed.
public struct ApprovalActivity: Codable, Sendable, Equatable {
    public var approvalID: String
    public var projectID: String
    /// `requested`, `reminder`, `escalated`, `decided` or `expired`.
    public var kind: String
    public var text: String
    public var at: Date

    public init(approvalID: String, projectID: String, kind: String, text: String, at: Date) {
        self.approvalID = approvalID
        self.projectID = projectID
        self.kind = kind
        self.text = text
        self.at = at
    }
}

/// What an email address must look like before it may reach a mail header: one `local@domain`, printable ASCII,
/// no spaces, quotes, angle brackets, commas or line breaks (so nothing can add a header or a recipient).
public enum EmailAddress {
    public static func isValid(_ text: String) -> Bool {
        guard text.utf8.count <= 254, let at = text.lastIndex(of: "@") else { return false }
        let local = text[..<at]
        let domain = text[text.index(after: at)...]
        let allowedLocal = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+-/=?^_`{|}~")
        let allowedDomain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
        return !local.isEmpty && local.count <= 64 && local.allSatisfy(allowedLocal.contains) && !local.hasPrefix(".")
            && !local.hasSuffix(".") && !local.contains("..") && domain.contains(".") && domain.allSatisfy(allowedDomain.contains)
            && !domain.hasPrefix(".") && !domain.hasSuffix(".") && !domain.hasPrefix("-") && !domain.contains("..")
    }
}
