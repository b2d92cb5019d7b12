import Foundation

/// Where a project is in its life (DESIGN §2).
public enum ProjectState: String, Codable, Sendable, CaseIterable {
    case draft, running
    case approvalPending = "approval_pending"
    case paused, done, failed
}

/// Why a project failed, or why it was paused.
public enum ProjectReason: String, Codable, Sendable {
    case error, rejected, expired, budget, cancelled
    /// Paused by a person.
    case requested
}

/// Where one unit of generation is.
/// What a running project waits for; every waiting state names one.
public enum WaitingFor: String, Codable, Sendable, CaseIterable {
    /// Its tasks are with the provider gateway.
    case generation
    /// A system action or a `cli_loop` command runs.
    case action
    /// Someone to advance it (a manual stage, a stage without `auto_advance`).
    case advance
    /// A `transition_delay` to pass.
    case timer
    /// A decision at ApprovalService.
    case approval
}

public enum TaskState: String, Codable, Sendable {
    case pending, queued, processing, done, failed
}

/// A change to a project a person (or a program acting for them) asks for.
public enum ProjectAction: String, Codable, Sendable, CaseIterable {
    /// A `draft` project begins its first stage.
    case start
    /// Nothing new is dispatched; results that arrive are kept.
    case pause
    case resume
    /// Moves on from a stage that waits for a person (manual stages, stages without `auto_advance`).
    case advance
    /// Runs a failed task (`taskID`) or every failed task of the current stage again.
    case retry
    /// Runs a failed project again from `stage`.
    case restart
    case cancel
}

/// Creates a project from a template's current (or named) version; answered with the project.
///
/// The owner is the envelope's actor. `params` are checked against the template's `params_schema` with its defaults
/// merged; every problem is listed with its JSON pointer.
public struct CreateProject: Request {
    public typealias Reply = ProjectView
    public static let type = "stage.create-project.v1"

    public var template: String
    public var version: Int?
    public var name: String
    public var params: [String: JSONValue]
    /// The most the project may spend, in US dollars.
    public var budget: Double?
    /// Start at once instead of staying a `draft`.
    public var start: Bool
    /// Where the owner's approval e-mails go (the Gateway knows it; the services do not).
    public var ownerEmail: String?
    /// The new project's id, chosen by the sender so the project's shard is known before it exists (and a retried
    /// create is recognised); StageService picks one when absent.
    public var projectID: String?

    public var shardKey: String? { projectID }

    public init(
        template: String, version: Int? = nil, name: String, params: [String: JSONValue], budget: Double? = nil, start: Bool = false,
        ownerEmail: String? = nil, projectID: String? = UUID().uuidString.lowercased()
    ) {
        self.projectID = projectID
        self.template = template
        self.version = version
        self.name = name
        self.params = params
        self.budget = budget
        self.start = start
        self.ownerEmail = ownerEmail
    }
}

/// Asks for one ``ProjectAction``; answered with the project as it is afterwards.
public struct ChangeProject: Request, ProjectScoped {
    public typealias Reply = ProjectView
    public static let type = "stage.change-project.v1"

    public var projectID: String
    public var action: ProjectAction
    /// `restart`: the stage to run again from.
    public var stage: String?
    /// `retry`: one failed task; all failed tasks of the current stage when absent.
    public var taskID: String?
    /// `resume`: a new budget in US dollars (a project paused for its budget goes on only with a larger one).
    public var budget: Double?

    public init(projectID: String, action: ProjectAction, stage: String? = nil, taskID: String? = nil, budget: Double? = nil) {
        self.projectID = projectID
        self.action = action
        self.stage = stage
        self.taskID = taskID
        self.budget = budget
    }
}

/// One project with its stage runs, tasks and artifacts.
public struct GetProject: Request, ProjectScoped {
    public typealias Reply = ProjectDetail
    public static let type = "stage.get-project.v1"

    public var projectID: String

    public init(projectID: String) { self.projectID = projectID }
}

/// A page of the projects the actor may see, newest first.
public struct ListProjects: Request {
    public typealias Reply = ProjectPage
    public static let type = "stage.list-projects.v1"

    /// Only this owner's (an admin may ask for anyone's; others always see their own).
    public var ownerID: String?
    public var state: ProjectState?
    public var template: String?
    /// The `next` of the previous page.
    public var cursor: String?
    public var limit: Int

    /// The most projects one page holds.
    public static let maximumLimit = 200

    public init(ownerID: String? = nil, state: ProjectState? = nil, template: String? = nil, cursor: String? = nil, limit: Int = 50) {
        self.ownerID = ownerID
        self.state = state
        self.template = template
        self.cursor = cursor
        self.limit = limit
    }
}

/// The project's event log after `after` (0: from the start).
public struct GetProjectEvents: Request, ProjectScoped {
    public typealias Reply = [ProjectEvent]
    public static let type = "stage.get-project-events.v1"

    public var projectID: String
    public var after: Int
    public var limit: Int

    public init(projectID: String, after: Int = 0, limit: Int = 500) {
        self.projectID = projectID
        self.after = after
        self.limit = limit
    }
}

/// What the projects' generations used and cost, per day (UTC), provider and model, newest day first: for the
/// operator, so an admin's request only.
public struct GetUsageByDay: Request {
    public typealias Reply = [UsageDay]
    public static let type = "stage.usage-by-day.v1"

    /// How many days back from today, today included (1 to 366).
    public var days: Int

    public init(days: Int = 14) {
        self.days = days
    }
}

public struct UsageDay: Codable, Sendable, Equatable {
    /// `2026-12-03`.
    public var day: String
    public var provider: String
    public var model: String
    public var tasks: Int
    public var tokensIn: Int
    public var tokensOut: Int
    public var cost: Double

    public init(day: String, provider: String, model: String, tasks: Int, tokensIn: Int, tokensOut: Int, cost: Double) {
        self.day = day
        self.provider = provider
        self.model = model
        self.tasks = tasks
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.cost = cost
    }
}

/// A project as its owner sees it.
public struct ProjectView: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var template: String
    public var templateVersion: Int
    public var ownerID: String
    public var state: ProjectState
    /// Why it failed or is paused.
    public var reason: ProjectReason?
    /// What went wrong, or what it waits for, in words a person can act on.
    public var message: String?
    /// The stage it is in.
    public var stage: String?
    /// What it waits for now: `generation`, `action`, `advance`, `approval`, `timer`, or nothing.
    public var waitingFor: WaitingFor?
    /// 0–100.
    public var progress: Int
    public var params: [String: JSONValue]
    public var budget: Double?
    /// US dollars spent so far.
    public var cost: Double
    public var createdAt: Date
    public var startedAt: Date?
    public var completedAt: Date?
    /// The sequence number of the newest event.
    public var lastEvent: Int

    public init(
        id: String, name: String, template: String, templateVersion: Int, ownerID: String, state: ProjectState,
        reason: ProjectReason? = nil, message: String? = nil, stage: String? = nil, waitingFor: WaitingFor? = nil, progress: Int,
        params: [String: JSONValue], budget: Double? = nil, cost: Double, createdAt: Date, startedAt: Date? = nil, completedAt: Date? = nil,
        lastEvent: Int
    ) {
        self.id = id
        self.name = name
        self.template = template
        self.templateVersion = templateVersion
        self.ownerID = ownerID
        self.state = state
        self.reason = reason
        self.message = message
        self.stage = stage
        self.waitingFor = waitingFor
        self.progress = progress
        self.params = params
        self.budget = budget
        self.cost = cost
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.lastEvent = lastEvent
    }
}

/// A stage the project entered (once per round: a request for changes runs a stage again).
public struct StageRunView: Codable, Sendable, Equatable {
    public var id: String
    public var stage: String
    public var round: Int
    /// `running`, `approval_pending`, `completed`, `failed`.
    public var state: String
    public var startedAt: Date
    public var completedAt: Date?
    public var approvalID: String?
    public var decision: String?
    public var feedback: String?

    public init(
        id: String, stage: String, round: Int, state: String, startedAt: Date, completedAt: Date? = nil, approvalID: String? = nil,
        decision: String? = nil, feedback: String? = nil
    ) {
        self.id = id
        self.stage = stage
        self.round = round
        self.state = state
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.approvalID = approvalID
        self.decision = decision
        self.feedback = feedback
    }
}

/// One unit of generation, with its history.
public struct TaskView: Codable, Sendable, Equatable {
    public var id: String
    public var stage: String
    public var stageRunID: String
    /// The `foreach` item's position, from 0.
    public var index: Int
    public var title: String
    public var state: TaskState
    public var content: String?
    public var error: String?
    public var attempts: Int
    public var feedback: String?
    public var approved: Bool
    /// The prompt last sent.
    public var system: String?
    public var prompt: String?
    public var validationErrors: [String]
    public var provider: String?
    public var model: String?
    public var tokensIn: Int
    public var tokensOut: Int
    public var cost: Double
    public var latencyMilliseconds: Int?

    public init(
        id: String, stage: String, stageRunID: String, index: Int, title: String, state: TaskState, content: String? = nil,
        error: String? = nil, attempts: Int, feedback: String? = nil, approved: Bool, system: String? = nil, prompt: String? = nil,
        validationErrors: [String], provider: String? = nil, model: String? = nil, tokensIn: Int, tokensOut: Int, cost: Double,
        latencyMilliseconds: Int? = nil
    ) {
        self.id = id
        self.stage = stage
        self.stageRunID = stageRunID
        self.index = index
        self.title = title
        self.state = state
        self.content = content
        self.error = error
        self.attempts = attempts
        self.feedback = feedback
        self.approved = approved
        self.system = system
        self.prompt = prompt
        self.validationErrors = validationErrors
        self.provider = provider
        self.model = model
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.cost = cost
        self.latencyMilliseconds = latencyMilliseconds
    }
}

/// A file a stage produced.
public struct ArtifactView: Codable, Sendable, Equatable {
    public var id: String
    public var stage: String
    public var name: String
    public var mediaType: String
    public var size: Int
    public var sha256: String
    public var version: Int
    public var createdAt: Date

    public init(
        id: String, stage: String, name: String, mediaType: String, size: Int, sha256: String, version: Int, createdAt: Date
    ) {
        self.id = id
        self.stage = stage
        self.name = name
        self.mediaType = mediaType
        self.size = size
        self.sha256 = sha256
        self.version = version
        self.createdAt = createdAt
    }
}

public struct ProjectDetail: Codable, Sendable, Equatable {
    public var project: ProjectView
    public var stageRuns: [StageRunView]
    public var tasks: [TaskView]
    public var artifacts: [ArtifactView]

    public init(
        project: ProjectView, stageRuns: [StageRunView], tasks: [TaskView], artifacts: [ArtifactView]
    ) {
        self.project = project
        self.stageRuns = stageRuns
        self.tasks = tasks
        self.artifacts = artifacts
    }
}

public struct ProjectPage: Codable, Sendable, Equatable {
    public var projects: [ProjectView]
    /// Pass as `cursor` for the next page; absent on the last.
    public var next: String?

    public init(
        projects: [ProjectView], next: String? = nil
    ) {
        self.projects = projects
        self.next = next
    }
}

/// One entry of a project's ordered log; also published as ``ProjectEventRecorded`` for live progress.
public struct ProjectEvent: Codable, Sendable, Equatable {
    /// 1, 2, 3, … per project.
    public var sequence: Int
    /// `project.created`, `project.started`, `stage.entered`, `task.completed`, `approval.requested`, …
    public var kind: String
    public var stage: String?
    public var taskID: String?
    public var message: String
    public var state: ProjectState
    public var progress: Int
    public var at: Date

    public init(
        sequence: Int, kind: String, stage: String?, taskID: String?, message: String, state: ProjectState, progress: Int, at: Date
    ) {
        self.sequence = sequence
        self.kind = kind
        self.stage = stage
        self.taskID = taskID
        self.message = message
        self.state = state
        self.progress = progress
        self.at = at
    }
}

/// A project's log grew; routed as `stage.project-event.v1`.
public struct ProjectEventRecorded: Event {
    public static let type = "stage.project-event.v1"

    public var projectID: String
    public var ownerID: String
    public var event: ProjectEvent

    public init(projectID: String, ownerID: String, event: ProjectEvent) {
        self.projectID = projectID
        self.ownerID = ownerID
        self.event = event
    }
}

/// A piece of a task's answer as the provider writes it, for live views; routed as `stage.task-text.v1`, not
/// persisted. Pieces of one attempt arrive in `index` order; a higher `attempt` means the text so far is to be
/// dropped (the earlier provider call failed part way). The task's content, once done, is in the project's detail.
public struct TaskTextStreamed: Event {
    public static let type = "stage.task-text.v1"

    public var projectID: String
    public var ownerID: String
    public var taskID: String
    public var attempt: Int
    public var index: Int
    public var text: String

    public init(projectID: String, ownerID: String, taskID: String, attempt: Int, index: Int, text: String) {
        self.projectID = projectID
        self.ownerID = ownerID
        self.taskID = taskID
        self.attempt = attempt
        self.index = index
        self.text = text
    }
}

/// Reads part of an artifact's bytes (its owner, or an admin): at most ``maximumLength`` from `offset`.
public struct ReadArtifact: Request, ProjectScoped {
    public typealias Reply = ArtifactBytes
    public static let type = "stage.read-artifact.v1"
    /// Kept well below a message's size limit, the bytes travelling as base64.
    public static let maximumLength = 1 << 20

    public var projectID: String
    public var artifactID: String
    public var offset: Int
    public var length: Int

    public init(projectID: String, artifactID: String, offset: Int = 0, length: Int = ReadArtifact.maximumLength) {
        self.projectID = projectID
        self.artifactID = artifactID
        self.offset = offset
        self.length = length
    }
}

/// Some of an artifact's bytes, with what describes the whole.
public struct ArtifactBytes: Codable, Sendable, Equatable {
    public var artifact: ArtifactView
    public var offset: Int
    public var data: Data

    public init(artifact: ArtifactView, offset: Int, data: Data) {
        self.artifact = artifact
        self.offset = offset
        self.data = data
    }
}
