import AMQPClient
import Contracts
import Foundation
import GRDB
import Logging
import Messaging
import RuntimeSupport
import ServiceStorage
import WorkflowKit

/// The parts of StageService, built once by `main` and by the tests.
struct StageService: Sendable {
    let engine: Engine
    let published: PublishedWork
    let outbox: Outbox
    let bus: any MessageBus
    /// How StageService is split, and which shard this is: it consumes only its own shard's queues.
    let shards: StageShards
    let shard: Int

    /// Results and decisions come from the events exchange, each kind to a queue of its own.
    static let resultsQueue = ServiceQueues.stageResults
    static let approvalsQueue = ServiceQueues.stageApprovalOutcomes
    /// Where ProviderGateway streams answers as they are written.
    static let chunksQueue = ServiceQueues.stageChunks
    static let queriesQueue = ServiceQueues.stageQueries

    /// This shard's copy of one of the queues.
    func queue(_ name: String) -> String { shards.queue(name, shard: shard) }

    static func build(
        database: any DatabaseWriter, bus: any MessageBus, templates: any TemplateSource, prices: (any PriceSource)? = nil,
        settings: EngineSettings = EngineSettings(), shards: StageShards = StageShards(count: 1), shard: Int = 0,
        actions: ActionRegistry? = nil, publicURL: String = "http://localhost:8080", logger: Logger,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) -> StageService {
        let publications = Publications(root: settings.artifactsDirectory.appendingPathComponent("published"))
        let deliverables = DeliverableSettings(publicURL: publicURL, publications: publications)
        var settings = settings
        if settings.streamTo == Self.chunksQueue { settings.streamTo = shards.queue(Self.chunksQueue, shard: shard) }
        var actions = actions ?? .standard()
        actions.registerDeliverables(deliverables)
        // A line in the log when a project ends, for the people watching the service (scripts/run.sh shows it).
        let outbox = Outbox(database: database, bus: bus, logger: logger) { message in
            guard message.type == ProjectEventRecorded.type,
                let recorded = try? MessageCoder().decode(Envelope<ProjectEventRecorded>.self, from: message.body).payload,
                recorded.event.kind == "project.completed" || recorded.event.kind == "project.failed"
            else { return }
            let metadata: Logger.Metadata = ["project": "\(recorded.projectID)", "detail": "\(recorded.event.message)"]
            if recorded.event.kind == "project.completed" {
                logger.info("project done", metadata: metadata)
            } else {
                logger.warning("project failed", metadata: metadata)
            }
        }
        let engine = Engine(
            database: database, outbox: outbox, bus: bus, results: GroupCommit(database: database, outbox: outbox), templates: templates,
            prices: prices ?? BusPriceSource(bus: bus), actions: actions,
            artifacts: ArtifactStore(root: settings.artifactsDirectory), settings: settings, workAdded: WakeSignal(), logger: logger,
            clock: clock)
        return StageService(
            engine: engine, published: PublishedWork(database: database, publications: publications, clock: clock), outbox: outbox,
            bus: bus,
            shards: shards, shard: shard)
    }

    /// Changes to projects: on a durable queue, as a command that is sent must not be lost.
    var handlers: RequestHandlers {
        var handlers = RequestHandlers()
        handlers.on(CreateProject.self) { envelope, _ in try await engine.create(envelope.payload, actor: envelope.actor) }
        handlers.on(ChangeProject.self) { envelope, _ in try await engine.change(envelope.payload, actor: envelope.actor) }
        handlers.on(SubmitSurveyResponse.self) { [published] envelope, _ in try await published.submit(envelope.payload) }
        return handlers
    }

    /// Reads: on a transient queue (a lost query is asked again), so a read costs no disk write at the broker.
    var queryHandlers: RequestHandlers {
        var handlers = RequestHandlers()
        handlers.on(GetProject.self) { envelope, _ in try await engine.detail(envelope.payload.projectID, actor: envelope.actor) }
        handlers.on(ListProjects.self) { envelope, _ in try await engine.list(envelope.payload, actor: envelope.actor) }
        handlers.on(GetProjectEvents.self) { envelope, _ in try await engine.events(envelope.payload, actor: envelope.actor) }
        handlers.on(ReadArtifact.self) { envelope, _ in try await engine.read(envelope.payload, actor: envelope.actor) }
        handlers.on(GetUsageByDay.self) { envelope, _ in try await engine.usage(envelope.payload, actor: envelope.actor) }
        handlers.on(GetPublishedFile.self) { [published] envelope, _ in try published.file(envelope.payload) }
        handlers.on(GetSurvey.self) { [published] envelope, _ in try published.survey(envelope.payload) }
        handlers.on(GetSurveyResults.self) { [published] envelope, _ in
            try await published.results(envelope.payload, actor: envelope.actor)
        }
        return handlers
    }

    /// Every shard's queues (so a message is routed right before its shard first starts), each behind a
    /// consistent-hash exchange that the shared exchanges feed: a message about a project reaches its shard by its
    /// shard key. Requests about no one project are sent to each shard's queue by name.
    var topology: Topology {
        typealias Route = (exchange: String, hash: String, types: [String])
        // Queries are asked again by whoever waits for them: a transient queue, declared again on a surviving node.
        let routes: [(queue: String, kind: QueueSpec.Kind, route: Route)] = [
            (ServiceQueues.stageCommands, .quorum, (Exchange.commands, StageShards.Exchanges.commands, handlers.typesForOneProject)),
            (Self.queriesQueue, .classic, (Exchange.commands, StageShards.Exchanges.queries, queryHandlers.typesForOneProject)),
            (Self.resultsQueue, .quorum, (Exchange.events, StageShards.Exchanges.results, [ContentGenerated.type, GenerationFailed.type])),
            (
                Self.approvalsQueue, .quorum,
                (Exchange.events, StageShards.Exchanges.approvals, [ApprovalDecided.type, ApprovalExpired.type])
            ),
        ]
        var topology = Topology()
        for (queue, kind, route) in routes {
            topology =
                topology
                + Topology(
                    exchanges: [ExchangeSpec(name: route.hash, kind: .consistentHash)],
                    exchangeBindings: route.types.map {
                        ExchangeBindingSpec(destination: route.hash, source: route.exchange, routingKey: $0)
                    })
            for shard in shards.all {
                // Each queue of equal weight on the hash ring.
                topology =
                    topology
                    + .workQueue(shards.queue(queue, shard: shard), kind: kind, durable: kind == .quorum, bindings: [(route.hash, "1")])
            }
        }
        // A piece lost with its node is only a gap in the live view: the answer itself comes as a result event.
        return shards.all.reduce(topology) { $0 + .workQueue(shards.queue(Self.chunksQueue, shard: $1), kind: .classic, durable: false) }
    }

    func serveCommands() async throws {
        try await bus.serve(handlers, queue: queue(ServiceQueues.stageCommands), options: ConsumeOptions(prefetch: 32, concurrency: 4))
    }

    func serveQueries() async throws {
        try await bus.serve(queryHandlers, queue: queue(Self.queriesQueue), options: ConsumeOptions(prefetch: 64, concurrency: 16))
    }

    /// Many results in flight at once: they wait together for one transaction (group commit), then are acknowledged.
    func consumeResults() async throws {
        try await bus.consume(queue: queue(Self.resultsQueue), options: ConsumeOptions(prefetch: 128, concurrency: 64)) { message in
            try await engine.handleResult(message)
        }
    }

    /// One at a time, so each generation's pieces go on in order.
    func consumeChunks() async throws {
        try await bus.consume(queue: queue(Self.chunksQueue), options: ConsumeOptions(prefetch: 256, concurrency: 1)) { message in
            try await engine.handleChunk(message)
        }
    }

    func consumeApprovals() async throws {
        try await bus.consume(queue: queue(Self.approvalsQueue), options: ConsumeOptions(prefetch: 16, concurrency: 1)) { message in
            try await engine.handleApproval(message)
        }
    }

    /// Dispatches work as it comes due, until cancelled.
    func runEngine() async {
        await DueLoop("running the engine", idleCheck: .seconds(5), signal: engine.workAdded, logger: engine.logger).run {
            try await engine.pass()
        }
        await engine.actionsRunning()
    }
}

/// Templates from TemplateService, by request/reply.
struct BusTemplateSource: TemplateSource {
    let bus: any MessageBus

    func template(_ code: String, version: Int?) async throws -> (WorkflowDefinition, Int) {
        let document: TemplateDocument
        do {
            document = try await bus.request(GetTemplate(code: code, version: version), timeout: .seconds(5))
        } catch let error as RemoteError where error.code == "not-found" {
            throw StageError.notFound(error.message)
        } catch let error as RequestTimeoutError {
            throw StageError.unavailable("TemplateService did not answer in time (\(error)); try again shortly")
        }
        let definition = try WorkflowDefinition(json: document.definition)
        return (definition, document.summary.version)
    }
}
