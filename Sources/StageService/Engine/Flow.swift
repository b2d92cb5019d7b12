import AMQPClient
import Contracts
import Crypto
import Foundation
import GRDB
import WorkflowKit

/// How a project moves through its stages (DESIGN §3), as changes inside one transaction.
extension ProjectWork {
    // MARK: Entering

    /// Enters `stage` in a new round. `regenerate` carries, for a request for changes, the feedback per task of the
    /// stage's previous round: tasks it names are generated again, the others keep their approved content.
    func enter(_ stage: StageDefinition, regenerate: [String: String?]? = nil) throws {
        let round = (try latestRun(of: stage.code)?.round ?? 0) + 1
        let run = StageRunRecord(
            id: UUID().uuidString, projectID: project.id, stage: stage.code, round: round, state: .running, startedAt: now)
        try run.insert(db)
        update {
            $0.stage = stage.code
            $0.stageRunID = run.id
            $0.waitingFor = nil
        }
        try updateProgress(doneFraction: 0)
        try log("stage.entered", round == 1 ? "entered \(stage.name)" : "entered \(stage.name) again (round \(round))", stage: stage.code)
        switch stage.executionMode {
        case .ai:
            do {
                try createTasks(for: stage, run: run, regenerate: regenerate)
            } catch let fault as EngineFault {
                return try fail(.error, fault.description)
            }
            update { $0.waitingFor = .generation }
            try dispatchReady()
            try stageProgressed()
        case .system, .cliLoop:
            update { $0.waitingFor = .action }
            needsPass = true
        case .manual:
            if stage.needsApproval {
                try requestApproval(at: stage, run: run, reviewing: stage.reviewOf.flatMap { definition.stage($0) })
            } else {
                update { $0.waitingFor = .advance }
                try log("stage.waiting", "\(stage.name) waits for someone to advance it", stage: stage.code)
            }
        }
    }

    private func createTasks(for stage: StageDefinition, run: StageRunRecord, regenerate: [String: String?]?) throws {
        if let regenerate, let previous = try previousRun(of: stage.code, before: run.round) {
            for old in try tasks(of: previous.id) {
                var task = TaskRecord(
                    projectID: project.id, stageRunID: run.id, stage: stage.code, position: old.position, title: old.title,
                    item: old.item?.value,
                    now: now)
                if let feedback = regenerate[old.id] {
                    task.feedback = feedback
                } else {
                    task.state = .done
                    task.approved = true
                    task.content = old.content
                    task.provider = old.provider
                    task.model = old.model
                }
                try task.insert(db)
            }
            return
        }
        let items: [JSONValue?]
        if let path = stage.foreach {
            guard let list = Self.value(at: path, in: .object(try context(stage: stage)))?.arrayValue else {
                throw EngineFault.error("stage '\(stage.code)' fans out over '\(path)', which is not a list here")
            }
            items = list
        } else {
            items = [nil]
        }
        for (position, item) in items.enumerated() {
            let title = item.flatMap { $0["title"]?.stringValue ?? $0["name"]?.stringValue ?? $0.stringValue } ?? stage.name
            try TaskRecord(
                projectID: project.id, stageRunID: run.id, stage: stage.code, position: position, title: title, item: item ?? nil, now: now
            ).insert(db)
        }
    }

    /// What a `cli_loop` stage's command is given: its prompt rendered (the context as JSON when it has none), and
    /// after a request for changes the previous round's output and the reviewer's feedback.
    func loopInputs(for stage: StageDefinition, run runID: String) throws -> CLILoopAction.Inputs {
        let context = JSONValue.object(try context(stage: stage))
        var prompt = context.jsonString()
        if let definition = stage.prompt {
            let rendered = try PromptRenderer.render(definition, context: context)
            prompt = [rendered.system, rendered.user].compactMap { $0 }.joined(separator: "\n\n")
        }
        guard let run = try StageRunRecord.fetchOne(db, key: runID), let previous = try previousRun(of: stage.code, before: run.round)
        else { return CLILoopAction.Inputs(prompt: prompt) }
        let output = try tasks(of: previous.id).first?.content.flatMap { try? JSONValue.parse(Data($0.utf8)) }
        return CLILoopAction.Inputs(prompt: prompt, previousOutput: output?["output"]?.stringValue, feedback: previous.feedback)
    }

    private func previousRun(of stage: String, before round: Int) throws -> StageRunRecord? {
        try StageRunRecord.filter(Column("projectID") == project.id && Column("stage") == stage && Column("round") == round - 1).fetchOne(
            db)
    }

    // MARK: Progress and completion

    /// Looks at the current stage's tasks: when all are finished, the stage completes, waits for approval or fails.
    func stageProgressed() throws {
        guard project.state == .running, let run = try currentRun, run.state == .running,
            let stage = definition.stage(run.stage), stage.executionMode == .ai
        else { return }
        // Counted in SQL: this runs for every result, and a stage may have hundreds of tasks.
        var counts: [String: Int] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT state, COUNT(*) AS n FROM task WHERE stageRunID = ? GROUP BY state", arguments: [run.id])
        {
            counts[row["state"]] = row["n"]
        }
        let total = counts.values.reduce(0, +)
        let done = counts[TaskState.done.rawValue] ?? 0
        try updateProgress(doneFraction: total == 0 ? 1 : Double(done) / Double(total))
        guard done + (counts[TaskState.failed.rawValue] ?? 0) == total else { return }
        let tasks = try tasks(of: run.id)
        if let failed = tasks.first(where: { $0.state == .failed }) {
            return try fail(.error, "task '\(failed.title)' of stage '\(stage.code)' failed: \(failed.error ?? "no reason given")")
        }
        let condition = stage.transitionCondition ?? #"all(tasks, state == "done")"#
        let holds: Bool
        do {
            let parsed = try Condition(condition)
            let readsOutputs = parsed.references.contains { $0.root == "outputs" }
            holds = try parsed.evaluate(.object(try context(stage: stage, tasks: tasks, withOutputs: readsOutputs)))
        } catch {
            return try fail(.error, "the transition condition of stage '\(stage.code)' could not be evaluated: \(error)")
        }
        guard holds else {
            return try fail(
                .error, "every task of stage '\(stage.code)' finished, but its transition condition does not hold: \(condition)")
        }
        if stage.needsApproval {
            try requestApproval(at: stage, run: run, reviewing: stage)
        } else {
            try complete(run, stage: stage)
        }
    }

    /// Marks the stage's work done, then advances now, after its delay, or when someone says so.
    func complete(_ run: StageRunRecord, stage: StageDefinition) throws {
        var run = run
        run.state = .completed
        run.completedAt = now
        try run.update(db)
        try updateProgress(doneFraction: 1)
        try log("stage.completed", "\(stage.name) is complete", stage: stage.code)
        if stage.autoAdvance == true || stage.needsApproval {
            let delay = stage.transitionDelay ?? 0
            if delay > 0, !stage.needsApproval {
                var timer = StageTimerRecord(
                    projectID: project.id, stageRunID: run.id, kind: .advance, dueAt: now.addingTimeInterval(TimeInterval(delay)))
                try timer.insert(db)
                needsPass = true
                update { $0.waitingFor = .timer }
                try log("stage.waiting", "moves on in \(delay) s", stage: stage.code)
            } else {
                try advance(from: stage)
            }
        } else {
            update { $0.waitingFor = .advance }
            try log("stage.waiting", "\(stage.name) is done; it waits for someone to advance the project", stage: stage.code)
        }
    }

    /// Goes to `next_stage`, else the next by sequence, else the project is done.
    func advance(from stage: StageDefinition) throws {
        let ordered = definition.orderedStages
        let next = stage.nextStage.flatMap { definition.stage($0) } ?? ordered.first { $0.sequence > stage.sequence }
        guard let next else {
            update {
                $0.state = .done
                $0.progress = 100
                $0.waitingFor = nil
                $0.completedAt = now
            }
            return try log("project.completed", "the project is done")
        }
        try enter(next)
    }

    /// 0–100: completed stages plus the done fraction of the current one.
    func updateProgress(doneFraction: Double) throws {
        let ordered = definition.orderedStages
        guard let index = ordered.firstIndex(where: { $0.code == project.stage }), !ordered.isEmpty else { return }
        let progress = Int(((Double(index) + min(max(doneFraction, 0), 1)) / Double(ordered.count) * 100).rounded(.down))
        guard progress != project.progress, project.state != .done else { return }
        update { $0.progress = min(progress, 99) }
    }

    func fail(_ reason: ProjectReason, _ message: String) throws {
        update {
            $0.state = .failed
            $0.reason = reason
            $0.message = message
            $0.waitingFor = nil
            $0.completedAt = now
        }
        if var run = try currentRun, run.state != .completed {
            run.state = .failed
            run.completedAt = now
            try run.update(db)
        }
        try log("project.failed", message)
    }

    // MARK: Approvals

    /// Asks ApprovalService to approve what `reviewing` produced (its latest round), and waits.
    func requestApproval(at stage: StageDefinition, run: StageRunRecord, reviewing: StageDefinition?) throws {
        let reviewed = try reviewing.flatMap { try latestRun(of: $0.code) }.map { try tasks(of: $0.id) } ?? []
        let items = reviewed.map { task in
            ApprovalItem(id: task.id, title: task.title, contentHash: Self.hash(task.content ?? ""), content: task.content)
        }
        let contentHash = Self.hash(items.map(\.contentHash).joined(separator: "\n") + run.id)
        var run = run
        run.state = .approvalPending
        run.contentHash = contentHash
        try run.update(db)
        var assignees = [Assignee(kind: .user, value: project.ownerID)]
        if let email = project.ownerEmail { assignees.append(Assignee(kind: .email, value: email)) }
        let type = ApprovalType(rawValue: stage.effectiveApprovalType.rawValue) ?? .content
        try send(
            RequestApproval(
                projectID: project.id, stageRunID: run.id, stage: stage.code, approvalType: type, contentHash: contentHash,
                summary: "\(stage.name) for \(project.name)", items: items, assignees: assignees, policy: .any,
                allowFeedback: stage.allowFeedback ?? true, expireAfterDays: settings.approvalExpiryDays),
            idempotencyKey: "approval-\(run.id)")
        update {
            $0.state = .approvalPending
            $0.waitingFor = .approval
        }
        try log("approval.requested", "\(stage.name) waits for your approval (\(items.count) item(s))", stage: stage.code)
    }

    /// Applies a decision on the approval of the current stage run.
    func decided(_ decision: ApprovalDecided) throws {
        guard var run = try currentRun, run.id == decision.stageRunID, run.state == .approvalPending,
            run.contentHash == decision.contentHash, let stage = definition.stage(run.stage)
        else { return }
        let reviewing = stage.executionMode == .manual ? stage.reviewOf.flatMap { definition.stage($0) } : stage
        run.decision = decision.decision.rawValue
        run.feedback = decision.feedback ?? decision.reason
        run.approvalID = decision.approvalID
        let who = decision.decidedBy.joined(separator: ", ")
        switch decision.decision {
        case .approve:
            try run.update(db)
            try applyApproval(decision.items, reviewing: reviewing)
            update { $0.state = .running }
            try log("approval.decided", "\(stage.name) approved by \(who)", stage: stage.code)
            try complete(run, stage: stage)
        case .requestChanges:
            run.state = .completed
            run.completedAt = now
            try run.update(db)
            update { $0.state = .running }
            try log("approval.decided", "\(who) asked for changes to \(stage.name)", stage: stage.code)
            guard let reviewing, let reviewedRun = try latestRun(of: reviewing.code) else {
                return try enter(stage)
            }
            let outcomes = Dictionary(decision.items.map { ($0.itemID, $0) }, uniquingKeysWith: { $1 })
            var regenerate: [String: String?] = [:]
            for task in try tasks(of: reviewedRun.id) where outcomes[task.id]?.approved != true {
                regenerate[task.id] = outcomes[task.id]?.feedback ?? decision.feedback
            }
            try enter(reviewing, regenerate: regenerate)
        case .reject:
            try run.update(db)
            update { $0.state = .running }
            try fail(.rejected, "\(stage.name) was rejected by \(who)\(decision.reason.map { ": \($0)" } ?? "")")
        }
    }

    /// Reviewer edits become the content; every item of the reviewed round is approved.
    private func applyApproval(_ items: [ItemOutcome], reviewing: StageDefinition?) throws {
        guard let reviewing, let reviewedRun = try latestRun(of: reviewing.code) else { return }
        let edits = Dictionary(items.compactMap { item in item.editedContent.map { (item.itemID, $0) } }, uniquingKeysWith: { $1 })
        for var task in try tasks(of: reviewedRun.id) {
            task.approved = true
            if let edited = edits[task.id] { task.content = edited }
            task.updatedAt = now
            try task.update(db)
        }
    }

    func expired(_ expiry: ApprovalExpired) throws {
        guard let run = try currentRun, run.id == expiry.stageRunID, run.state == .approvalPending else { return }
        update { $0.state = .running }
        try fail(.expired, "the approval of \(definition.stage(run.stage)?.name ?? run.stage) expired before anyone decided")
    }

    static func hash(_ text: String) -> String { sha256(Data(text.utf8)) }

    /// The SHA-256 of `data` in lowercase hex: content hashes for approvals, digests of artifacts.
    static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// The value at a dotted path (`outputs.sitemap.pages`) of `root`.
    static func value(at path: String, in root: JSONValue) -> JSONValue? {
        path.split(separator: ".").reduce(Optional(root)) { value, key in value?[String(key)] }
    }
}

/// A problem with a project's own definition or state that fails the project rather than the message.
enum EngineFault: Error, CustomStringConvertible {
    case error(String)

    var description: String {
        switch self {
        case .error(let message): message
        }
    }
}
