import AMQPClient
import ArgumentParser
import Contracts
import Foundation
import Logging
import Messaging
import Synchronization

/// The engine's path end to end: StageService → ProviderGateway (the `local` provider, no limits, answering at once)
/// → StageService, on the local broker, with the release binaries beside aiwf-bench.
struct EngineBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "AI tasks per second through the whole path, stage-transition latency, and many websites to their first gate.")

    @Option(help: "Projects run at once for the throughput figure.") var projects = 20
    @Option(help: "AI tasks per project (one stage fanning out).") var tasks = 100
    @Option(help: "Stages of the single-task chain the transition latency is measured on.") var chain = 60
    @Option(help: "Website projects started at once, each run to its first approval gate.") var websites = 1000
    @Option(help: "The repository's Workflows folder (for the website workflow).") var workflows = "Workflows"
    @OptionGroup var broker: BrokerOptions
    @OptionGroup var report: ReportOptions

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aiwf-bench-engine-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let system = try BenchSystem(folder: folder, workflows: URL(fileURLWithPath: workflows), chain: chain, url: broker.amqpURL)
        defer { system.stop() }
        try await system.start()
        var logger = Logger(label: "aiwf-bench")
        logger.logLevel = .error
        let bus = AMQPBus(url: try broker.url(), serviceName: "aiwf-bench.engine", logger: logger)
        let context = MessageContext(actor: Actor(userID: "bench-\(UUID().uuidString.prefix(6))", roles: []))
        var output = Report()

        // Throughput: many projects fanning out at once.
        let items = JSONValue.array((1...tasks).map { .string("item \($0)") })
        let started = ContinuousClock.now
        var ids: [String] = []
        for index in 1...projects {
            let project = try await bus.request(
                CreateProject(template: "bench-fanout", name: "fan-out \(index)", params: ["items": items], start: true),
                context: context, timeout: .seconds(30))
            ids.append(project.id)
        }
        try await waitUntil(bus: bus, context: context, ids: ids, timeout: .seconds(600)) { $0 == .done }
        let elapsed = ContinuousClock.now - started
        output.add("tasks_per_second", "AI tasks through the whole path", Double(projects * tasks) / elapsed.seconds, unit: "tasks/s")

        // Transition latency: result received by the broker → the next stage's request confirmed by it.
        let latencies = try await measureChain(bus: bus, context: context, logger: logger)
        let percentiles = Percentiles(latencies)
        output.add("transition_p50_ms", "stage transition, p50", percentiles.value(at: 50), unit: "ms", decimals: 2)
        output.add("transition_p99_ms", "stage transition, p99", percentiles.value(at: 99), unit: "ms", decimals: 2)

        // Many websites at once, each to its design review.
        let websiteStart = ContinuousClock.now
        var websiteIDs: [String] = []
        for index in 1...websites {
            let project = try await bus.request(
                CreateProject(template: "website", name: "site \(index)", params: BenchSystem.websiteParams, start: true),
                context: context, timeout: .seconds(30))
            websiteIDs.append(project.id)
        }
        let failed = try await waitUntil(bus: bus, context: context, ids: websiteIDs, timeout: .seconds(1200)) {
            $0 == .approvalPending
        }
        output.add(
            "websites_to_first_gate_s", "\(websites) websites to their first approval gate", (ContinuousClock.now - websiteStart).seconds,
            unit: "s", decimals: 1)
        output.add("websites_failed", "websites that failed on the way", Double(failed), unit: "")
        output.add("stage_service_rss_mb", "StageService resident memory at the end", system.rss("StageService"), unit: "MB", decimals: 1)
        await bus.close()
        output.print(json: report.json)
    }

    /// Waits until every project is in a state `reached` accepts, or failed; returns how many failed.
    private func waitUntil(
        bus: AMQPBus, context: MessageContext, ids: [String], timeout: Duration, _ reached: (ProjectState) -> Bool
    ) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        var remaining = Set(ids)
        var failed = 0
        while !remaining.isEmpty {
            guard ContinuousClock.now < deadline else {
                throw ValidationError("\(remaining.count) of \(ids.count) projects did not get there within \(timeout)")
            }
            var cursor: String?
            repeat {
                let page = try await bus.request(
                    ListProjects(cursor: cursor, limit: 200), shards: StageShards(count: 1), context: context, timeout: .seconds(30))
                for project in page.projects where remaining.contains(project.id) {
                    if reached(project.state) {
                        remaining.remove(project.id)
                    } else if project.state == .failed {
                        remaining.remove(project.id)
                        failed += 1
                    }
                }
                cursor = page.next
            } while cursor != nil
            if !remaining.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
        }
        return failed
    }

    /// Runs one chain project alone and times, at the broker, each result → the next request.
    private func measureChain(bus: AMQPBus, context: MessageContext, logger: Logger) async throws -> [Double] {
        let listener = AMQPConnection(options: AMQPConnectionOptions(url: try broker.url(), name: "aiwf-bench.listener"), logger: logger)
        let queue = "aiwf-bench.transitions.\(UUID().uuidString.prefix(8))"
        var spec = QueueSpec(name: queue)
        spec.autoDelete = true
        try await listener.declare(
            Topology(
                queues: [spec],
                bindings: [
                    BindingSpec(queue: queue, exchange: Exchange.events, routingKey: ContentGenerated.type),
                    BindingSpec(queue: queue, exchange: Exchange.commands, routingKey: GenerateContent.routingKey(provider: "local")),
                ]))
        let arrivals = Mutex<[(UInt64, String)]>([])
        let subscription = try await listener.consume(queue: queue, prefetch: 500)
        let collecting = Task {
            for try await delivery in subscription.deliveries {
                listener.ack(delivery)
                let type = (try? MessageCoder().decode(EnvelopeHeader.self, from: delivery.body))?.type ?? ""
                arrivals.withLock { $0.append((monotonicNanoseconds(), type)) }
            }
        }
        let project = try await bus.request(
            CreateProject(template: "bench-chain", name: "chain", params: [:], start: true), context: context, timeout: .seconds(30))
        _ = try await waitUntil(bus: bus, context: context, ids: [project.id], timeout: .seconds(300)) { $0 == .done }
        try await Task.sleep(for: .milliseconds(200))
        collecting.cancel()
        await subscription.close()
        await listener.close()
        // Arrivals alternate request, result, request, …: each result to the request after it is one transition.
        let sequence = arrivals.withLock { $0 }
        var latencies: [Double] = []
        for (index, arrival) in sequence.enumerated() where arrival.1 == ContentGenerated.type && index + 1 < sequence.count {
            let next = sequence[index + 1]
            if next.1 == GenerateContent.type { latencies.append(Double(next.0 - arrival.0) / 1e6) }
        }
        return latencies
    }
}

/// The services the engine benchmark runs, on a data folder of its own.
final class BenchSystem {
    let folder: URL
    let url: String
    private let processes: BenchProcesses

    static let websiteParams: [String: JSONValue] = [
        "company_name": "Bench Bakery", "industry": "bakery", "website_type": "business", "page_count": 3,
        "target_audience": "families nearby", "description": "A neighbourhood bakery that sells bread and cakes every day.",
    ]

    init(folder: URL, workflows: URL, chain: Int, url: String) throws {
        self.folder = folder
        self.url = url
        self.processes = BenchProcesses(folder: folder, firstPort: 18_180)
        let templates = folder.appendingPathComponent("workflows")
        try FileManager.default.createDirectory(at: templates, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: workflows.appendingPathComponent("website"), to: templates.appendingPathComponent("website"))
        try Self.write(Self.fanOut, to: templates.appendingPathComponent("bench-fanout"))
        try Self.write(Self.chain(chain), to: templates.appendingPathComponent("bench-chain"))
        try Self.writeLocalProviders(to: folder, concurrency: 64)
    }

    /// A `providers.yaml` in `folder` with only the offline `local` provider, `concurrency` calls at once.
    static func writeLocalProviders(to folder: URL, concurrency: Int) throws {
        try """
        default_provider: local
        providers:
          local:
            kind: local
            models:
              local-writer: {input_per_million: 0, output_per_million: 0}
            limits: {max_concurrency: \(concurrency)}
        """.write(to: folder.appendingPathComponent("providers.yaml"), atomically: true, encoding: .utf8)
    }

    private static func write(_ yaml: String, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try yaml.write(to: directory.appendingPathComponent("workflow.yaml"), atomically: true, encoding: .utf8)
    }

    static let fanOut = """
        code: bench-fanout
        name: Bench fan-out
        description: One AI stage with a task per item.
        default_provider: local
        params_schema: {type: object, properties: {items: {type: array, items: {type: string}}}}
        stages:
          - code: write
            name: Write
            sequence: 10
            execution_mode: ai
            auto_advance: true
            foreach: params.items
            prompt: {user: "Write one line about {{item}}."}
        """

    static func chain(_ count: Int) -> String {
        let stages = (1...max(count, 2)).map { index in
            """
              - code: s\(index)
                name: Step \(index)
                sequence: \(index * 10)
                execution_mode: ai
                auto_advance: true
                prompt: {user: "Step \(index)."}
            """
        }
        return """
            code: bench-chain
            name: Bench chain
            description: Single-task AI stages one after another.
            default_provider: local
            params_schema: {type: object}
            stages:
            \(stages.joined(separator: "\n"))
            """
    }

    func start() async throws {
        let services: [(String, [String])] = [
            ("TemplateService", ["--workflows-dir", folder.appendingPathComponent("workflows").path]),
            ("StageService", []),
            ("ProviderGateway", ["--providers", folder.appendingPathComponent("providers.yaml").path]),
            ("ApprovalService", []),
        ]
        for (name, extra) in services { try await processes.start(name, arguments: extra, environment: ["AIWF_AMQP_URL": url]) }
    }

    func rss(_ name: String) -> Double { processes.residentMegabytes(name) }

    func stop() { processes.stop() }
}
