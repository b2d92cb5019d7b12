import AMQPClient
import Contracts
import Foundation
import GRDB
import Messaging
import WorkflowKit

/// One transaction's hold on a project: the changes made to it, the entries of its event log, and the messages to
/// publish with them. Everything the engine does to a project goes through here, so state, log and outbox always
/// commit together.
final class ProjectWork {
    let db: Database
    let now: Date
    let settings: EngineSettings
    /// The providers' prices, when known: a project with a budget sends a task only with its most cost reserved.
    let prices: PriceList?
    private(set) var project: ProjectRecord
    private(set) var messages: [OutgoingMessage] = []
    /// Whether this change left work only the engine's pass does: an action to run, a timer, a retry's backoff.
    var needsPass = false
    private let context: MessageContext

    let definition: WorkflowDefinition

    init(
        _ project: ProjectRecord, definition: WorkflowDefinition, db: Database, now: Date, settings: EngineSettings,
        prices: PriceList? = nil, context: MessageContext = MessageContext()
    ) {
        self.prices = prices
        self.project = project
        self.definition = definition
        self.db = db
        self.now = now
        self.settings = settings
        var context = context
        context.correlationID = project.id  // one stream per project: its messages leave in order
        context.shardKey = project.id  // and what they cause (generation results) comes back to its shard
        self.context = context
    }

    static func load(
        _ id: String, db: Database, now: Date, settings: EngineSettings, prices: PriceList? = nil,
        context: MessageContext = MessageContext()
    ) throws -> ProjectWork? {
        guard let project = try ProjectRecord.fetchOne(db, key: id) else { return nil }
        return ProjectWork(
            project, definition: try DefinitionCache.shared.definition(of: id, in: db), db: db, now: now, settings: settings,
            prices: prices, context: context)
    }

    func update(_ change: (inout ProjectRecord) -> Void) {
        change(&project)
    }

    /// Writes the project row and returns what to publish.
    func finish() throws -> [OutgoingMessage] {
        try project.save(db)
        return messages
    }

    /// Adds an entry to the project's log and publishes it for live progress.
    func log(_ kind: String, _ message: String, stage: String? = nil, taskID: String? = nil) throws {
        project.lastEvent += 1
        let record = ProjectEventRecord(
            projectID: project.id, sequence: project.lastEvent, kind: kind, stage: stage ?? project.stage, taskID: taskID,
            message: message, state: project.state, progress: project.progress, at: now)
        try record.insert(db)
        messages.append(
            try .event(ProjectEventRecorded(projectID: project.id, ownerID: project.ownerID, event: record.event), context: context))
    }

    func send<C: Command>(_ command: C, idempotencyKey: String) throws {
        var context = self.context
        context.idempotencyKey = idempotencyKey
        messages.append(try .command(command, context: context))
    }

    // MARK: Reading

    var currentRun: StageRunRecord? {
        get throws { try project.stageRunID.flatMap { try StageRunRecord.fetchOne(db, key: $0) } }
    }

    func tasks(of runID: String) throws -> [TaskRecord] {
        try TaskRecord.filter(Column("stageRunID") == runID).order(Column("position")).fetchAll(db)
    }

    /// The latest run of `stage`, if it ran.
    func latestRun(of stage: String) throws -> StageRunRecord? {
        try StageRunRecord.filter(Column("projectID") == project.id && Column("stage") == stage).order(Column("round").desc).fetchOne(db)
    }

    /// What prompts and conditions see (DESIGN §3.8): `params`, `project`, `stage`, `outputs.<stage>`, and `tasks`.
    /// Earlier outputs are read only when `withOutputs` (the prompt or condition reads them): on the path of every
    /// result, and a stage's own done tasks would otherwise be read and parsed for each of its tasks.
    func context(stage: StageDefinition, tasks: [TaskRecord] = [], withOutputs: Bool = true) throws -> [String: JSONValue] {
        [
            "params": .object(project.params),
            "project": ["id": .string(project.id), "name": .string(project.name), "template": .string(project.template)],
            "stage": ["code": .string(stage.code), "name": .string(stage.name)],
            "outputs": .object(withOutputs ? try outputs() : [:]),
            "tasks": .array(
                tasks.map { task in
                    [
                        "state": .string(task.state.rawValue), "title": .string(task.title), "attempts": .number(Double(task.attempts)),
                        "approved": .bool(task.approved),
                    ]
                }),
        ]
    }

    /// Set while a batch of tasks is sent: sending changes no output, so the batch reads them once.
    private var batchOutputs: [String: JSONValue]?
    private var inSendingBatch = false

    /// Runs `body` (which sends tasks and changes no done task) reading earlier outputs at most once.
    func sendingBatch(_ body: () throws -> Void) throws {
        inSendingBatch = true
        defer {
            inSendingBatch = false
            batchOutputs = nil
        }
        try body()
    }

    /// Every stage's output from its latest round, read in one query: one value, or a list for a stage that fans out.
    func outputs() throws -> [String: JSONValue] {
        if inSendingBatch, let batchOutputs { return batchOutputs }
        let outputs = try readOutputs()
        if inSendingBatch { batchOutputs = outputs }
        return outputs
    }

    private func readOutputs() throws -> [String: JSONValue] {
        let done = try TaskRecord.fetchAll(
            db,
            sql: """
                SELECT t.* FROM task t JOIN stageRun r ON r.id = t.stageRunID
                WHERE t.projectID = ? AND t.state = 'done' AND r.round = (
                    SELECT MAX(latest.round) FROM stageRun latest WHERE latest.projectID = r.projectID AND latest.stage = r.stage)
                ORDER BY t.stage, t.position
                """, arguments: [project.id])
        var outputs: [String: JSONValue] = [:]
        for (code, tasks) in Dictionary(grouping: done, by: \.stage) {
            let values = tasks.sorted { $0.position < $1.position }.map { Self.output(of: $0) }
            outputs[code] = definition.stage(code)?.foreach == nil && values.count == 1 ? values[0] : .array(values)
        }
        return outputs
    }

    /// A task's content as JSON when it is JSON, else as text.
    static func output(of task: TaskRecord) -> JSONValue {
        guard let content = task.content else { return .null }
        return (try? JSONValue.parse(Data(content.utf8))) ?? .string(content)
    }
}
