import AMQPClient
import Contracts
import Foundation
import GRDB
import Logging
import Messaging
import OfflineDrafts
import ServiceStorage
import ServiceTestSupport
import Synchronization
import Testing
import WorkflowKit

@testable import ProviderGateway
@testable import StageService

let quiet: Logger = {
    var logger = Logger(label: "stage-tests")
    logger.logLevel = .critical
    return logger
}()

let owner = Actor(userID: "ana")
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Templates from the repository's Workflows folder, plus any given inline.
struct FixedTemplates: TemplateSource {
    var extra: [String: WorkflowDefinition] = [:]

    func template(_ code: String, version: Int?) async throws -> (WorkflowDefinition, Int) {
        if let definition = extra[code] { return (definition, 1) }
        let folder = repository.appendingPathComponent("Workflows").appendingPathComponent(code)
        guard FileManager.default.fileExists(atPath: folder.path) else { throw StageError.notFound("no template has the code '\(code)'") }
        return (try WorkflowLoader.load(directory: folder).definition, 1)
    }
}

/// What the scripted provider does with one request.
enum Answer: Sendable {
    case content(String)
    case failure(kind: String, retryable: Bool)
    /// No answer at all (a lost request).
    case silence
    /// The answer streamed in these pieces (to the request's `streamTo`), then sent whole.
    case streamed([String])
}

/// A StageService engine on the in-memory bus, with a scripted provider and a manual clock: the test moves time and
/// runs the engine's passes itself.
final class EngineBed: Sendable {
    let bus = InMemoryBus(logger: quiet)
    let service: StageService
    let folder: URL
    private let requests = Recorded<GenerateContent>()
    private let approvals = Recorded<RequestApproval>()
    private let texts = Recorded<TaskTextStreamed>()
    private let script: @Sendable (GenerateContent, Int) -> Answer
    private let clock = ManualClock()
    private let decisions = Mutex(0)
    private let background = Mutex<[Task<Void, any Error>]>([])

    static let providerQueue = "test.provider"
    static let approvalQueue = "test.approvals"
    static let textQueue = "test.task-text"

    /// - Parameter script: the answer to a request, given how many requests came before it.
    init(
        templates: FixedTemplates = FixedTemplates(), prices: PriceList? = nil, settings: EngineSettings = EngineSettings(),
        actions: ActionRegistry = .standard(),
        script: @escaping @Sendable (GenerateContent, Int) -> Answer = { request, _ in .content(LocalAnswers.answer(request)) }
    ) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("stage-\(UUID().uuidString)")
        var settings = settings
        settings.artifactsDirectory = folder.appendingPathComponent("artifacts")
        let database = try ServiceDatabase.inMemory(migrations: StageSchema.migrate)
        let clock = self.clock
        service = StageService.build(
            database: database, bus: bus, templates: templates, prices: FixedPrices(list: prices), settings: settings, actions: actions,
            logger: quiet,
            clock: { clock.now })
        self.script = script
        try await bus.declare(
            Topology.standardExchanges + service.topology
                + .workQueue(
                    Self.providerQueue,
                    bindings: [(Exchange.commands, GenerateContent.type), (Exchange.commands, GenerateContent.type + ".local")])
                + .workQueue(Self.approvalQueue, bindings: [(Exchange.commands, RequestApproval.type)])
                + .workQueue(Self.textQueue, bindings: [(Exchange.events, TaskTextStreamed.type)]))
        let service = self.service
        let bus = self.bus
        let requests = self.requests
        let approvals = self.approvals
        let texts = self.texts
        startInBackground { try await service.consumeResults() }
        startInBackground { try await service.consumeApprovals() }
        startInBackground { try await service.consumeChunks() }
        startInBackground {
            try await bus.consume(queue: Self.textQueue) { message in _ = texts.append(try message.decode(TaskTextStreamed.self).payload) }
        }
        startInBackground {
            try await bus.consume(queue: Self.providerQueue) { message in
                let request = try message.decode(GenerateContent.self).payload
                let index = requests.append(request)
                var answer = script(request, index)
                if case .streamed(let pieces) = answer, let queue = request.streamTo {
                    for (position, piece) in pieces.enumerated() {
                        try await bus.publish(
                            try .direct(
                                GenerationChunk(requestID: request.requestID, index: position, attempt: 1, text: piece), to: queue,
                                context: MessageContext()))
                    }
                    // As a provider would: the answer after its pieces (here after StageService passed them on).
                    let taskID = String(request.requestID.prefix { $0 != "." })
                    _ = try await eventually(every: .milliseconds(2)) {
                        texts.values.filter({ $0.taskID == taskID }).count >= pieces.count
                    }
                    answer = .content(pieces.joined())
                    // ProviderGateway ends the stream with the result itself.
                    try await bus.publish(
                        try .direct(
                            ContentGenerated(
                                requestID: request.requestID, content: pieces.joined(), tokensIn: 10, tokensOut: 1, cost: 0.001,
                                provider: "local", model: "local-writer", latencyMilliseconds: 1, attempts: 1), to: queue,
                            context: MessageContext()))
                }
                switch answer {
                case .content(let text):
                    let tokens = max(1, text.count / 4)
                    try await bus.publish(
                        ContentGenerated(
                            requestID: request.requestID, content: text, tokensIn: 10, tokensOut: tokens, cost: 0.001, provider: "local",
                            model: request.model ?? "local-writer", latencyMilliseconds: 1, attempts: 1), context: MessageContext())
                case .failure(let kind, let retryable):
                    try await bus.publish(
                        GenerationFailed(
                            requestID: request.requestID, kind: kind, message: "scripted \(kind)", retryable: retryable, attempts: 1),
                        context: MessageContext())
                case .silence, .streamed:
                    break
                }
            }
        }
        startInBackground {
            try await bus.consume(queue: Self.approvalQueue) { message in
                _ = approvals.append(try message.decode(RequestApproval.self).payload)
            }
        }
    }

    private func startInBackground(_ body: @escaping @Sendable () async throws -> Void) {
        let task = Task { try await body() }
        background.withLock { $0.append(task) }
    }

    var engine: Engine { service.engine }
    var now: Date { clock.now }
    var sentRequests: [GenerateContent] { requests.values }
    var approvalRequests: [RequestApproval] { approvals.values }
    var streamedTexts: [TaskTextStreamed] { texts.values }

    func advanceClock(by seconds: TimeInterval) {
        clock.advance(by: seconds)
    }

    /// Runs engine passes and the outbox until `condition` holds (or `timeout` of real time passes: generous, as
    /// the whole suite runs in parallel on two cores).
    @discardableResult
    func run(timeout: Duration = .seconds(60), until condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            try await engine.pass()
            try await service.outbox.relayPending()
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        return try await condition()
    }

    func project(_ id: String) async throws -> ProjectDetail { try await engine.detail(id, actor: owner) }

    /// Runs until the project is in `state`.
    @discardableResult
    func run(_ id: String, until state: ProjectState) async throws -> ProjectDetail {
        _ = try await run { try await self.project(id).project.state == state }
        return try await project(id)
    }

    func create(_ template: String, params: [String: JSONValue], start: Bool = true, budget: Double? = nil) async throws -> ProjectView {
        try await engine.create(
            CreateProject(template: template, name: "Test \(template)", params: params, budget: budget, start: start), actor: owner)
    }

    /// Decides the newest approval request as ApprovalService would announce it.
    func decide(
        _ decision: ApprovalDecision, feedback: String? = nil, reason: String? = nil, items: [ItemOutcome] = []
    ) async throws {
        let decided = decisions.withLock { count in
            count += 1
            return count
        }
        #expect(try await run { self.approvalRequests.count >= decided }, "an approval was requested")
        let request = try #require(approvalRequests.last)
        try await bus.publish(
            ApprovalDecided(
                approvalID: "approval-\(approvalRequests.count)", projectID: request.projectID, stageRunID: request.stageRunID,
                stage: request.stage, decision: decision, decidedBy: ["user:ana"], decidedAt: now, contentHash: request.contentHash,
                feedback: feedback, reason: reason, items: items),
            context: MessageContext())
    }

    func stop() {
        background.withLock { tasks in tasks.forEach { $0.cancel() } }
        try? FileManager.default.removeItem(at: folder)
    }
}

/// Schema-true answers for the scripted provider, made by the local provider's own generator.
enum LocalAnswers {
    static func answer(_ request: GenerateContent) -> String {
        guard let schema = request.responseSchema else { return "Text for: \(request.user.prefix(40))" }
        var generator = DraftWriter(prompt: request.user)
        return generator.instance(of: schema, name: "answer").jsonString()
    }
}

/// Values seen by a background consumer, in order.
final class Recorded<Value: Sendable>: Sendable {
    private let state = Mutex<[Value]>([])

    /// Adds `value`; returns how many came before it.
    func append(_ value: Value) -> Int {
        state.withLock { values in
            values.append(value)
            return values.count - 1
        }
    }

    var values: [Value] { state.withLock { $0 } }
}

/// Time that moves only when a test says so.
final class ManualClock: Sendable {
    private let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))

    var now: Date { time.withLock { $0 } }

    func advance(by seconds: TimeInterval) {
        time.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
