import Contracts
import Foundation
import GRDB
import WorkflowKit

/// A project row. The definition it runs is stored with it (``ProjectDefinitionRecord``), so neither a later template
/// change nor TemplateService being down affects it.
struct ProjectRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "project"

    var id: String
    var name: String
    var template: String
    var templateVersion: Int
    var params: [String: JSONValue]
    var ownerID: String
    var ownerEmail: String?
    var state: ProjectState
    var reason: ProjectReason?
    var message: String?
    var stage: String?
    var stageRunID: String?
    var waitingFor: WaitingFor?
    var progress: Int
    var budget: Double?
    var cost: Double
    /// The most the tasks in flight may still cost.
    var reserved: Double = 0
    var lastEvent: Int
    var lastDispatchAt: Date?
    var createdAt: Date
    var startedAt: Date?
    var completedAt: Date?

    var view: ProjectView {
        ProjectView(
            id: id, name: name, template: template, templateVersion: templateVersion, ownerID: ownerID, state: state, reason: reason,
            message: message, stage: stage, waitingFor: waitingFor, progress: progress, params: params, budget: budget, cost: cost,
            createdAt: createdAt, startedAt: startedAt, completedAt: completedAt, lastEvent: lastEvent)
    }
}

/// One entry into a stage.
struct StageRunRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "stageRun"

    enum State: String, Codable, Sendable {
        case running
        case approvalPending = "approval_pending"
        case completed, failed
    }

    var id: String
    var projectID: String
    var stage: String
    var round: Int
    var state: State
    var startedAt: Date
    var completedAt: Date?
    var approvalID: String?
    var contentHash: String?
    var decision: String?
    var feedback: String?

    var view: StageRunView {
        StageRunView(
            id: id, stage: stage, round: round, state: state.rawValue, startedAt: startedAt, completedAt: completedAt,
            approvalID: approvalID, decision: decision, feedback: feedback)
    }
}

/// One unit of generation (or the one result of a system stage).
struct TaskRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "task"

    var id: String
    var projectID: String
    var stageRunID: String
    var stage: String
    var position: Int
    var title: String
    /// The fan-out item the task is for (a page of the sitemap, a chapter of the outline).
    var item: StoredJSON?
    var state: TaskState
    var content: String?
    var error: String?
    /// Generations asked for: each is one request id.
    var attempts: Int
    /// Retryable provider failures in a row, for the backoff.
    var failedSends: Int
    var feedback: String?
    var approved: Bool
    var requestID: String?
    var system: String?
    var prompt: String?
    var validationErrors: [String]
    var provider: String?
    var model: String?
    var tokensIn: Int
    var tokensOut: Int
    var cost: Double
    var latencyMilliseconds: Int?
    var notBefore: Date?
    var leaseUntil: Date?
    var updatedAt: Date
    /// The most this task's request in flight may cost, held against the project's budget.
    var reservedCost: Double

    init(
        id: String = UUID().uuidString, projectID: String, stageRunID: String, stage: String, position: Int, title: String,
        item: JSONValue?, now: Date
    ) {
        self.id = id
        self.projectID = projectID
        self.stageRunID = stageRunID
        self.stage = stage
        self.position = position
        self.title = title
        self.item = item.map(StoredJSON.init)
        self.state = .pending
        self.attempts = 0
        self.failedSends = 0
        self.approved = false
        self.validationErrors = []
        self.tokensIn = 0
        self.tokensOut = 0
        self.cost = 0
        self.updatedAt = now
        self.reservedCost = 0
    }

    /// Tasks sent and not answered.
    static func inFlight() -> QueryInterfaceRequest<TaskRecord> {
        filter([TaskState.queued.rawValue, TaskState.processing.rawValue].contains(Column("state")))
    }

    /// Sent tasks with no answer by the end of their lease.
    static func leaseExpired(at now: Date) -> QueryInterfaceRequest<TaskRecord> {
        inFlight().filter(Column("leaseUntil") < now)
    }

    var view: TaskView {
        TaskView(
            id: id, stage: stage, stageRunID: stageRunID, index: position, title: title, state: state, content: content, error: error,
            attempts: attempts, feedback: feedback, approved: approved, system: system, prompt: prompt,
            validationErrors: validationErrors, provider: provider, model: model, tokensIn: tokensIn, tokensOut: tokensOut, cost: cost,
            latencyMilliseconds: latencyMilliseconds)
    }
}

struct ProjectEventRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "projectEvent"

    var projectID: String
    var sequence: Int
    var kind: String
    var stage: String?
    var taskID: String?
    var message: String
    var state: ProjectState
    var progress: Int
    var at: Date

    var event: ProjectEvent {
        ProjectEvent(
            sequence: sequence, kind: kind, stage: stage, taskID: taskID, message: message, state: state, progress: progress, at: at)
    }
}

/// A durable timer: an automatic advance after `transition_delay`.
struct StageTimerRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable {
    static let databaseTableName = "stageTimer"

    enum Kind: String, Codable, Sendable {
        case advance
    }

    var id: Int64?
    var projectID: String
    var stageRunID: String
    var kind: Kind
    var dueAt: Date
    var firedAt: Date?

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

struct ArtifactRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "artifact"

    var id: String
    var projectID: String
    var stage: String
    var name: String
    var mediaType: String
    var size: Int
    var sha256: String
    var version: Int
    var path: String
    var createdAt: Date

    var view: ArtifactView {
        ArtifactView(
            id: id, stage: stage, name: name, mediaType: mediaType, size: size, sha256: sha256, version: version, createdAt: createdAt)
    }
}

/// The exact definition a project runs, as fetched when it was created.
struct ProjectDefinitionRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "projectDefinition"

    var projectID: String
    var definition: WorkflowDefinition
}

/// A JSON value in a text column, stored as its JSON text. GRDB hands a column's text to a `JSONValue` as a string,
/// so an object stored directly came back as `.string("{…}")` and a prompt's `{{item.title}}` rendered empty.
struct StoredJSON: Codable, Sendable, Equatable {
    var value: JSONValue

    init(_ value: JSONValue) {
        self.value = value
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        // Rows written before this type held a string item as bare text.
        value = (try? JSONValue.parse(Data(text.utf8))) ?? .string(text)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value.jsonString())
    }
}
