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
    var prices: PriceList?
    private(set) var project: ProjectRecord
    private(set) var messages: [OutgoingMessage] = []
    private let context: MessageContext

    init(_ project: ProjectRecord, db: Database, now: Date, settings: EngineSettings, context: MessageContext = MessageContext()) {
        self.project = project
        self.db = db
        self.now = now
        self.settings = settings
        var context = context
        context.correlationID = project.id  // one stream per project: its messages leave in order
        self.context = context
    }

    static func load(_ id: String, db: Database, now: Date, settings: EngineSettings, context: MessageContext = MessageContext()) throws
        -> ProjectWork?
    {
        try ProjectRecord.fetchOne(db, key: id).map { ProjectWork($0, db: db, now: now, settings: settings, context: context) }
    }

    var definition: WorkflowDefinition { project.definition }

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
    func context(stage: StageDefinition, tasks: [TaskRecord] = []) throws -> [String: JSONValue] {
        var outputs: [String: JSONValue] = [:]
        for definition in definition.stages {
            guard let run = try latestRun(of: definition.code) else { continue }
            let done = try self.tasks(of: run.id).filter { $0.state == .done }
            guard !done.isEmpty else { continue }
            let values = done.map { Self.output(of: $0) }
            outputs[definition.code] = definition.foreach == nil && values.count == 1 ? values[0] : .array(values)
        }
        return [
            "params": .object(project.params),
            "project": ["id": .string(project.id), "name": .string(project.name), "template": .string(project.template)],
            "stage": ["code": .string(stage.code), "name": .string(stage.name)],
            "outputs": .object(outputs),
            "tasks": .array(
                tasks.map { task in
                    [
                        "state": .string(task.state.rawValue), "title": .string(task.title), "attempts": .number(Double(task.attempts)),
                        "approved": .bool(task.approved),
                    ]
                }),
        ]
    }

    /// A task's content as JSON when it is JSON, else as text.
    static func output(of task: TaskRecord) -> JSONValue {
        guard let content = task.content else { return .null }
        return (try? JSONValue.parse(Data(content.utf8))) ?? .string(content)
    }
}
