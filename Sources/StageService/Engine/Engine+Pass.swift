import AMQPClient
import Contracts
import Foundation
import GRDB
import Messaging
import ServiceStorage
import Synchronization
import WorkflowKit

/// The engine's loop over stored work that comes due: timers, expired leases, tasks waiting their turn, actions.
extension Engine {
    /// One pass; returns when the next stored work is due.
    @discardableResult
    func pass(at time: Date? = nil) async throws -> Date? {
        let now = time ?? clock()
        try await fireTimers(now: now)
        try await renewLeases(now: now)
        while try await dispatch(now: now) == settings.dispatchBatch {}
        try await runActions(now: now)
        return try await database.read { db in
            let dates = [
                try Date.fetchOne(db, sql: "SELECT MIN(dueAt) FROM stageTimer WHERE firedAt IS NULL"),
                try Date.fetchOne(db, TaskRecord.inFlight().select(min(Column("leaseUntil")))),
                try Date.fetchOne(db, sql: "SELECT MIN(notBefore) FROM task WHERE state = 'pending' AND notBefore IS NOT NULL"),
            ]
            return dates.compactMap { $0 }.min()
        }
    }

    /// Automatic advances whose `transition_delay` passed (not while the project is paused).
    func fireTimers(now: Date) async throws {
        let due = try await database.read { db in
            try StageTimerRecord.filter(Column("firedAt") == nil && Column("dueAt") <= now).fetchCount(db) > 0
        }
        guard due else { return }  // no write transaction for nothing: results wait for the one writer
        let settings = self.settings
        let prices = self.prices.current()
        try await outbox.commit { db -> (Void, [OutgoingMessage]) in
            let due = try StageTimerRecord.fetchAll(
                db,
                sql: """
                    SELECT t.* FROM stageTimer t JOIN project p ON p.id = t.projectID
                    WHERE t.firedAt IS NULL AND t.dueAt <= ? AND p.state != 'paused' ORDER BY t.dueAt LIMIT 256
                    """, arguments: [now])
            var messages: [OutgoingMessage] = []
            for var timer in due {
                timer.firedAt = now
                try timer.update(db)
                guard let work = try ProjectWork.load(timer.projectID, db: db, now: now, settings: settings, prices: prices),
                    work.project.state == .running, work.project.stageRunID == timer.stageRunID, work.project.waitingFor == .timer,
                    let stage = work.project.stage.flatMap({ work.definition.stage($0) })
                else { continue }
                try work.advance(from: stage)
                messages += try work.finish()
            }
            return ((), messages)
        }
    }

    /// Sent tasks with no result by the end of their lease are sent again with the same request id.
    func renewLeases(now: Date) async throws {
        guard try await database.read({ db in try TaskRecord.leaseExpired(at: now).fetchCount(db) > 0 }) else { return }
        let settings = self.settings
        try await outbox.commit { db -> (Void, [OutgoingMessage]) in
            let expired = try TaskRecord.leaseExpired(at: now).order(Column("leaseUntil")).limit(256).fetchAll(db)
            var messages: [OutgoingMessage] = []
            for task in expired {
                guard let work = try ProjectWork.load(task.projectID, db: db, now: now, settings: settings),
                    work.project.state == .running || work.project.state == .paused
                else { continue }
                try work.renewLease(task)
                messages += try work.finish()
            }
            return ((), messages)
        }
    }

    /// A pending task (`t`) whose backoff has passed (`?`: now), of a running project (`p`) in that task's stage run.
    private static let dispatchable = """
        t.state = 'pending' AND (t.notBefore IS NULL OR t.notBefore <= ?) AND p.state = 'running' AND p.stageRunID = t.stageRunID
        """

    /// Sends pending tasks of running projects, one project after another in turn (the one served longest ago
    /// first), at most `tasksInFlightPerProject` of a project at once; returns how many were sent.
    func dispatch(now: Date) async throws -> Int {
        let waiting = try await database.read { db in
            try Bool.fetchOne(
                db,
                sql: "SELECT EXISTS (SELECT 1 FROM task t JOIN project p ON p.id = t.projectID WHERE \(Self.dispatchable))",
                arguments: [now]) ?? false
        }
        guard waiting else { return 0 }
        let settings = self.settings
        let prices = self.prices.current()
        return try await outbox.commit { db -> (Int, [OutgoingMessage]) in
            let candidates = try Row.fetchAll(
                db,
                sql: """
                    SELECT t.id AS task, t.projectID AS project FROM task t JOIN project p ON p.id = t.projectID
                    WHERE \(Self.dispatchable)
                    ORDER BY p.lastDispatchAt IS NOT NULL, p.lastDispatchAt, p.createdAt, t.position
                    LIMIT ?
                    """, arguments: [now, settings.dispatchBatch * 8])
            guard !candidates.isEmpty else { return (0, []) }
            var queues: [String: [String]] = [:]
            var order: [String] = []
            for row in candidates {
                let project: String = row["project"]
                if queues[project] == nil { order.append(project) }
                queues[project, default: []].append(row["task"])
            }
            var inFlight: [String: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT projectID, COUNT(*) AS n FROM task WHERE state IN ('queued', 'processing') GROUP BY projectID")
            {
                inFlight[row["projectID"]] = row["n"]
            }
            // Round robin: one task per project per round, so a big project never keeps the small ones waiting.
            var picked: [String: [String]] = [:]
            var count = 0
            var progressed = true
            while progressed, count < settings.dispatchBatch {
                progressed = false
                for project in order where count < settings.dispatchBatch {
                    guard inFlight[project, default: 0] < settings.tasksInFlightPerProject, var queue = queues[project], !queue.isEmpty
                    else { continue }
                    picked[project, default: []].append(queue.removeFirst())
                    queues[project] = queue
                    inFlight[project, default: 0] += 1
                    count += 1
                    progressed = true
                }
            }
            var messages: [OutgoingMessage] = []
            for project in order {
                guard let ids = picked[project],
                    let work = try ProjectWork.load(project, db: db, now: now, settings: settings, prices: prices)
                else {
                    continue
                }
                try work.sendingBatch {
                    for id in ids where work.project.state == .running {
                        guard let task = try TaskRecord.fetchOne(db, key: id) else { continue }
                        try work.dispatch(task)
                    }
                }
                work.update { $0.lastDispatchAt = now }
                try work.stageProgressed()  // a task whose prompt could not be rendered failed the stage
                messages += try work.finish()
            }
            return (count, messages)
        }
    }

    /// Starts the action of every running project whose `system` or `cli_loop` stage waits for it, each in a task
    /// of its own so a long command never holds up the pass. The action runs outside any transaction; its result
    /// commits only if the project is still where it was.
    func runActions(now: Date) async throws {
        let waiting = try await database.read { db in
            try ProjectRecord.filter(Column("state") == ProjectState.running.rawValue && Column("waitingFor") == WaitingFor.action.rawValue)
                .limit(64)
                .fetchAll(db)
        }
        for project in waiting {
            guard let runID = project.stageRunID, let code = project.stage, runningActions.claim(runID) else { continue }
            let prepared: (StageDefinition, ActionInput)?
            do {
                prepared = try await prepareAction(project, runID: runID, stage: code, now: now)
            } catch {
                runningActions.release(runID)
                throw error
            }
            guard let (stage, input) = prepared else {
                runningActions.release(runID)
                continue
            }
            runningActions.start(runID) { [self] in
                let outcome: Result<ActionOutput, any Error>
                do {
                    outcome = .success(try await perform(stage, input))
                } catch {
                    outcome = .failure(error)
                }
                do {
                    try await finishAction(outcome, project: project.id, runID: runID, stage: stage, now: now)
                } catch {
                    logger.error("could not store the outcome of stage '\(stage.code)' of project \(project.id): \(error); it runs again")
                }
                workAdded.signal()
            }
        }
    }

    /// Actions still running, awaited when the engine stops.
    func actionsRunning() async { await runningActions.wait() }

    private func perform(_ stage: StageDefinition, _ input: ActionInput) async throws -> ActionOutput {
        if stage.executionMode == .cliLoop, let loop = input.loop {
            return try await actions.cliLoop.run(input, loop)
        }
        guard let name = stage.action, let action = actions.action(name) else {
            throw EngineFault.error("this StageService has no action named '\(stage.action ?? "")'")
        }
        return try await action.run(input)
    }

    /// What the action of `project`'s current stage is given, read in one transaction.
    private func prepareAction(_ project: ProjectRecord, runID: String, stage code: String, now: Date) async throws -> (
        StageDefinition, ActionInput
    )? {
        let workspace = artifacts.root.appendingPathComponent(project.id).appendingPathComponent("workspace")
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        return try await database.read { [settings] db -> (StageDefinition, ActionInput)? in
            guard let work = try ProjectWork.load(project.id, db: db, now: now, settings: settings),
                let stage = work.definition.stage(code)
            else { return nil }
            var input = ActionInput(
                projectID: project.id, stageRunID: runID, projectName: project.name, stage: stage, params: project.params,
                outputs: try work.outputs(), workspace: workspace)
            input.projectCreatedAt = project.createdAt
            if stage.executionMode == .cliLoop {
                input.loop = try work.loopInputs(for: stage, run: runID)
            }
            return (stage, input)
        }
    }

    private func finishAction(
        _ outcome: Result<ActionOutput, any Error>, project id: String, runID: String, stage: StageDefinition, now: Date
    ) async throws {
        let settings = self.settings
        let artifacts = self.artifacts
        try await outbox.commit { db -> (Void, [OutgoingMessage]) in
            guard let work = try ProjectWork.load(id, db: db, now: now, settings: settings),
                work.project.state == .running, work.project.stageRunID == runID, work.project.waitingFor == .action,
                let run = try work.currentRun
            else { return ((), []) }
            let files: [ArtifactFile]
            switch outcome {
            case .success(let output): files = output.artifacts
            case .failure(let error): files = (error as? ActionError)?.artifacts ?? []
            }
            for file in files {
                let version =
                    (try Int.fetchOne(
                        db, sql: "SELECT MAX(version) FROM artifact WHERE projectID = ? AND name = ?", arguments: [id, file.name]) ?? 0)
                    + 1
                let (path, sha256) = try artifacts.write(file, project: id, stage: stage.code, version: version)
                let record = ArtifactRecord(
                    id: UUID().uuidString, projectID: id, stage: stage.code, name: file.name, mediaType: file.mediaType,
                    size: file.data.count, sha256: sha256, version: version, path: path, createdAt: now)
                try record.insert(db)
                try work.log("artifact.created", "\(file.name) (\(file.data.count) bytes)", stage: stage.code)
            }
            switch outcome {
            case .failure(let error):
                let what = stage.executionMode == .cliLoop ? "the command" : "the action '\(stage.action ?? "")'"
                try work.fail(.error, "\(what) of stage '\(stage.code)' failed: \(error)")
            case .success(let output):
                var task = TaskRecord(
                    projectID: id, stageRunID: runID, stage: stage.code, position: 0, title: stage.action ?? stage.name, item: nil, now: now
                )
                task.state = .done
                task.content = output.output.jsonString()
                try task.insert(db)
                work.update { $0.waitingFor = nil }
                if stage.needsApproval {
                    try work.requestApproval(at: stage, run: run, reviewing: stage)
                } else {
                    try work.complete(run, stage: stage)
                }
            }
            return ((), try work.finish())
        }
    }
}

/// The actions running now, by stage run: one at a time per run, awaited when the engine stops.
final class RunningActions: Sendable {
    private let tasks = Mutex<[String: Task<Void, Never>?]>([:])

    /// Marks `runID` as taken; false when its action already runs.
    func claim(_ runID: String) -> Bool {
        tasks.withLock { tasks in
            guard tasks[runID] == nil else { return false }
            tasks[runID] = .some(nil)
            return true
        }
    }

    func release(_ runID: String) {
        _ = tasks.withLock { $0.removeValue(forKey: runID) }
    }

    /// Runs `body` for a claimed `runID`, releasing it at the end.
    func start(_ runID: String, _ body: @escaping @Sendable () async -> Void) {
        tasks.withLock { tasks in
            tasks[runID] = Task {
                await body()
                self.release(runID)
            }
        }
    }

    /// Cancels what runs (a command is killed with its process group) and waits for it to end.
    func wait() async {
        let running = tasks.withLock { $0.values.compactMap { $0 } }
        for task in running {
            task.cancel()
            await task.value
        }
    }
}
