import AMQPClient
import Contracts
import Foundation
import GRDB
import Logging
import Messaging
import RuntimeSupport
import ServiceStorage
import WorkflowKit

/// Where project definitions come from: TemplateService over request/reply, or a fixed set in tests.
protocol TemplateSource: Sendable {
    /// The definition and version of `code` (its latest version when `version` is nil).
    func template(_ code: String, version: Int?) async throws -> (WorkflowDefinition, Int)
}

/// The workflow engine: commands and queries, results and decisions, and the pass that dispatches work that is due.
/// Every change to a project commits with its log entries and its outgoing messages in one transaction.
struct Engine: Sendable {
    let database: any DatabaseWriter
    let outbox: Outbox
    /// For what is sent at once rather than through the outbox: live text, not worth keeping.
    let bus: any MessageBus
    /// Results are applied many to a transaction.
    let results: GroupCommit
    let templates: any TemplateSource
    let prices: any PriceSource
    let actions: ActionRegistry
    let artifacts: ArtifactStore
    let runningActions = RunningActions()
    let settings: EngineSettings
    /// Woken when tasks may be sent or actions run.
    let workAdded: WakeSignal
    let logger: Logger
    /// The engine's time; tests pass a manual clock.
    let clock: @Sendable () -> Date

    // MARK: Commands

    func create(_ request: CreateProject, actor: Actor?, at time: Date? = nil) async throws -> ProjectView {
        let now = time ?? clock()
        let owner = try Self.owner(actor)
        let name = request.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200 else { throw StageError.invalid("name: give the project a name of 1 to 200 characters") }
        if let budget = request.budget, !(budget.isFinite && budget > 0) {
            throw StageError.invalid("budget: give a positive number of US dollars, or leave it out")
        }
        let id = request.projectID ?? UUID().uuidString.lowercased()
        guard (1...64).contains(id.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw StageError.invalid("projectID: 1 to 64 letters, digits and dashes (a UUID), or leave it out")
        }
        let (definition, version) = try await templates.template(request.template, version: request.version)
        let params = definition.parameters(request.params)
        let violations = try JSONSchema(definition.paramsSchema).validate(.object(params))
        guard violations.isEmpty else {
            throw StageError.invalid(
                "the parameters do not match template '\(definition.code)':\n"
                    + violations.map { "- params\($0.pointer.isEmpty ? "" : $0.pointer): \($0.message)" }.joined(separator: "\n"))
        }
        let project = ProjectRecord(
            id: id, name: name, template: definition.code, templateVersion: version,
            params: params, ownerID: owner.userID, ownerEmail: request.ownerEmail, state: .draft, progress: 0, budget: request.budget,
            cost: 0, lastEvent: 0, createdAt: now)
        let prices = self.prices.current()
        let view = try await outbox.commit { [settings] db -> (ProjectView, [OutgoingMessage]) in
            // The same create sent again (its reply was lost) gets the project it made.
            if let existing = try ProjectRecord.fetchOne(db, key: project.id) {
                guard existing.ownerID == owner.userID, existing.template == project.template, existing.name == name else {
                    throw StageError(code: "conflict", message: "a project with the id '\(project.id)' exists; leave projectID out")
                }
                return (existing.view, [])
            }
            try DefinitionCache.shared.store(definition, for: project.id, in: db)
            let work = ProjectWork(project, definition: definition, db: db, now: now, settings: settings, prices: prices)
            try work.log("project.created", "created from \(definition.name) v\(version)")
            if request.start { try Self.start(work) }
            let messages = try work.finish()
            return (work.project.view, messages)
        }
        workAdded.signal()
        return view
    }

    func change(_ request: ChangeProject, actor: Actor?, at time: Date? = nil) async throws -> ProjectView {
        let now = time ?? clock()
        let owner = try Self.owner(actor)
        let prices = self.prices.current()
        let view = try await outbox.commit { [settings] db -> (ProjectView, [OutgoingMessage]) in
            guard let work = try ProjectWork.load(request.projectID, db: db, now: now, settings: settings, prices: prices),
                Self.mayAct(owner, on: work.project)
            else { throw StageError.notFound("no project has the id '\(request.projectID)'") }
            try Self.apply(request, to: work)
            let messages = try work.finish()
            return (work.project.view, messages)
        }
        workAdded.signal()
        return view
    }

    private static func apply(_ request: ChangeProject, to work: ProjectWork) throws {
        let state = work.project.state
        func refuse(_ why: String) -> StageError { .wrongState("cannot \(request.action.rawValue) this project: \(why)") }
        switch request.action {
        case .start:
            guard state == .draft else { throw refuse("it is \(state.rawValue); only a draft can start") }
            try start(work)
        case .pause:
            guard state == .running || state == .approvalPending else { throw refuse("it is \(state.rawValue), not running") }
            work.update {
                $0.state = .paused
                $0.reason = .requested
            }
            try work.log("project.paused", "paused; results that arrive are kept, nothing new is sent")
        case .resume:
            guard state == .paused else { throw refuse("it is \(state.rawValue), not paused") }
            if let budget = request.budget {
                guard budget.isFinite, budget > work.project.cost + work.project.reserved else {
                    throw StageError.invalid(
                        String(
                            format: "budget: give more than the $%.4f spent and reserved so far", work.project.cost + work.project.reserved)
                    )
                }
                work.update { $0.budget = budget }
            }
            let waitsForApproval = try work.currentRun?.state == .approvalPending
            work.update {
                $0.state = waitsForApproval ? .approvalPending : .running
                $0.reason = nil
                $0.message = nil
            }
            try work.log("project.resumed", "resumed")
            try work.stageProgressed()
            try work.dispatchReady()
        case .advance:
            guard state == .running, work.project.waitingFor == .advance, let run = try work.currentRun,
                let stage = work.definition.stage(run.stage)
            else { throw refuse("it is not waiting for someone to advance it (it is \(state.rawValue))") }
            if run.state == .running {
                var run = run
                run.state = .completed
                run.completedAt = work.now
                try run.update(work.db)
                try work.log("stage.completed", "\(stage.name) is complete", stage: stage.code)
            }
            try work.advance(from: stage)
        case .retry:
            try retry(work, taskID: request.taskID, refuse: refuse)
        case .restart:
            guard state == .failed else { throw refuse("it is \(state.rawValue); only a failed project can restart") }
            guard let code = request.stage, let stage = work.definition.stage(code) else {
                throw StageError.invalid(
                    "stage: name the stage to restart from, one of \(work.definition.orderedStages.map(\.code).joined(separator: ", "))")
            }
            reopen(work)
            try work.log("project.restarted", "restarted from \(stage.name)")
            try work.enter(stage)
        case .cancel:
            guard state != .done, state != .failed else { throw refuse("it is \(state.rawValue) already") }
            try work.fail(.cancelled, "cancelled by its owner")
        }
    }

    private static func start(_ work: ProjectWork) throws {
        guard let first = work.definition.orderedStages.first else {
            throw StageError.invalid("template '\(work.project.template)' has no stages")
        }
        work.update {
            $0.state = .running
            $0.startedAt = work.now
        }
        try work.log("project.started", "started")
        try work.enter(first)
    }

    private static func retry(_ work: ProjectWork, taskID: String?, refuse: (String) -> StageError) throws {
        let state = work.project.state
        guard state == .failed || state == .running, work.project.reason != .cancelled else {
            throw refuse("it is \(state.rawValue)\(work.project.reason.map { " (\($0.rawValue))" } ?? ""); only failed work can be retried")
        }
        guard var run = try work.currentRun, let stage = work.definition.stage(run.stage) else { throw refuse("it has no current stage") }
        let failed = try work.tasks(of: run.id).filter { $0.state == .failed && (taskID == nil || $0.id == taskID) }
        guard !failed.isEmpty || (state == .failed && stage.executionMode != .ai) else {
            throw refuse(taskID.map { "task '\($0)' of the current stage has not failed" } ?? "no task of the current stage has failed")
        }
        for var task in failed {
            task.state = .pending
            task.attempts = 0
            task.failedSends = 0
            task.error = nil
            task.validationErrors = []
            task.updatedAt = work.now
            try task.update(work.db)
        }
        if state == .failed {
            reopen(work)
            run.state = .running
            run.completedAt = nil
            try run.update(work.db)
            // A system or cli_loop stage runs its action again; an ai stage sends its tasks again.
            work.update { $0.waitingFor = stage.executionMode == .ai ? .generation : .action }
        }
        try work.log("project.retried", "trying \(failed.isEmpty ? stage.name : "\(failed.count) failed task(s)") again")
    }

    private static func reopen(_ work: ProjectWork) {
        work.update {
            $0.state = .running
            $0.reason = nil
            $0.message = nil
            $0.completedAt = nil
        }
    }

    // MARK: Queries

    func detail(_ id: String, actor: Actor?) async throws -> ProjectDetail {
        let owner = try Self.owner(actor)
        return try await database.read { db in
            guard let project = try ProjectRecord.fetchOne(db, key: id), Self.mayAct(owner, on: project) else {
                throw StageError.notFound("no project has the id '\(id)'")
            }
            let runs = try StageRunRecord.filter(Column("projectID") == id).order(Column("startedAt"), Column("round")).fetchAll(db)
            let order = Dictionary(runs.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { $1 })
            let tasks = try TaskRecord.filter(Column("projectID") == id).fetchAll(db)
                .sorted { (order[$0.stageRunID] ?? 0, $0.position) < (order[$1.stageRunID] ?? 0, $1.position) }
            let artifacts = try ArtifactRecord.filter(Column("projectID") == id).order(Column("createdAt")).fetchAll(db)
            return ProjectDetail(
                project: project.view, stageRuns: runs.map(\.view), tasks: tasks.map(\.view), artifacts: artifacts.map(\.view))
        }
    }

    /// Part of an artifact's bytes, read from the artifact store.
    func read(_ request: ReadArtifact, actor: Actor?) async throws -> ArtifactBytes {
        let owner = try Self.owner(actor)
        let record = try await database.read { db -> ArtifactRecord? in
            guard let project = try ProjectRecord.fetchOne(db, key: request.projectID), Self.mayAct(owner, on: project) else { return nil }
            return try ArtifactRecord.filter(Column("projectID") == project.id && Column("id") == request.artifactID).fetchOne(db)
        }
        guard let record else { throw StageError.notFound("project '\(request.projectID)' has no artifact '\(request.artifactID)'") }
        guard request.offset >= 0, request.offset <= record.size, request.length >= 0 else {
            throw StageError.invalid("offset: from 0 to the artifact's size (\(record.size) bytes)")
        }
        let length = min(request.length, ReadArtifact.maximumLength, record.size - request.offset)
        guard let handle = FileHandle(forReadingAtPath: record.path) else {
            throw StageError.unavailable("the bytes of artifact '\(record.name)' are missing from the artifact store")
        }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(request.offset))
        let data = try handle.read(upToCount: length) ?? Data()
        return ArtifactBytes(artifact: record.view, offset: request.offset, data: data)
    }

    func list(_ request: ListProjects, actor: Actor?) async throws -> ProjectPage {
        let owner = try Self.owner(actor)
        let limit = min(max(request.limit, 1), ListProjects.maximumLimit)
        let ownerID = owner.roles.contains("admin") ? request.ownerID : owner.userID
        let cursor = try request.cursor.map { cursor in
            guard let position = ProjectPage.position(of: cursor) else {
                throw StageError.invalid("cursor: pass the `next` of the previous page unchanged")
            }
            return position
        }
        return try await database.read { db in
            var query = ProjectRecord.all()
            if let ownerID { query = query.filter(Column("ownerID") == ownerID) }
            if let state = request.state { query = query.filter(Column("state") == state.rawValue) }
            if let template = request.template { query = query.filter(Column("template") == template) }
            if let (createdAt, id) = cursor {
                query = query.filter(Column("createdAt") < createdAt || (Column("createdAt") == createdAt && Column("id") < id))
            }
            let page = try query.order(Column("createdAt").desc, Column("id").desc).limit(limit + 1).fetchAll(db)
            let shown = Array(page.prefix(limit))
            let next = page.count > limit ? shown.last.map { ProjectPage.cursor(after: $0.view) } : nil
            return ProjectPage(projects: shown.map(\.view), next: next)
        }
    }

    func events(_ request: GetProjectEvents, actor: Actor?) async throws -> [ProjectEvent] {
        let owner = try Self.owner(actor)
        return try await database.read { db in
            guard let project = try ProjectRecord.fetchOne(db, key: request.projectID), Self.mayAct(owner, on: project) else {
                throw StageError.notFound("no project has the id '\(request.projectID)'")
            }
            return try ProjectEventRecord.filter(Column("projectID") == project.id && Column("sequence") > request.after)
                .order(Column("sequence")).limit(min(max(request.limit, 1), 1000)).fetchAll(db).map(\.event)
        }
    }

    func usage(_ request: GetUsageByDay, actor: Actor?, now: Date? = nil) async throws -> [UsageDay] {
        guard try Self.owner(actor).roles.contains("admin") else {
            throw StageError(code: "not-allowed", message: "usage across all projects is for admins")
        }
        guard (1...366).contains(request.days) else { throw StageError.invalid("days: a whole number from 1 to 366") }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let since = calendar.date(byAdding: .day, value: 1 - request.days, to: calendar.startOfDay(for: now ?? clock()))!
        return try await database.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT date(updatedAt) AS day, provider, COALESCE(model, '') AS model, COUNT(*) AS tasks,
                           SUM(tokensIn) AS tokensIn, SUM(tokensOut) AS tokensOut, SUM(cost) AS cost
                    FROM task WHERE state = 'done' AND provider IS NOT NULL AND updatedAt >= ?
                    GROUP BY day, provider, model ORDER BY day DESC, provider, model
                    """, arguments: [since])
            return rows.map { row in
                UsageDay(
                    day: row["day"], provider: row["provider"], model: row["model"], tasks: row["tasks"], tokensIn: row["tokensIn"],
                    tokensOut: row["tokensOut"], cost: row["cost"])
            }
        }
    }

    static func owner(_ actor: Actor?) throws -> Actor {
        guard let actor, !actor.userID.isEmpty else {
            throw StageError(code: "unauthenticated", message: "the request names no user; sign in, or send the acting user with it")
        }
        return actor
    }

    /// A project belongs to its owner; an admin may act on any.
    static func mayAct(_ actor: Actor, on project: ProjectRecord) -> Bool {
        project.ownerID == actor.userID || actor.roles.contains("admin")
    }
}

/// A refusal StageService sends back, with a code a program can act on.
struct StageError: ReplyableError, CustomStringConvertible {
    let code: String
    let message: String

    var description: String { "\(code): \(message)" }

    static func notFound(_ message: String) -> Self { Self(code: "not-found", message: message) }
    static func invalid(_ message: String) -> Self { Self(code: "invalid", message: message) }
    static func wrongState(_ message: String) -> Self { Self(code: "wrong-state", message: message) }
    static func unavailable(_ message: String) -> Self { Self(code: "unavailable", message: message) }
}
