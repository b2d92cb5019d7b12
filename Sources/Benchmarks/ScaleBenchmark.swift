import AMQPClient
import ArgumentParser
import Contracts
import Foundation

/// The scaled-out system on one machine, standing in for a cluster: several ProviderGateway replicas, StageService
/// shards and Gateway replicas (sharing their accounts in PostgreSQL) on one broker run website projects to `done`
/// through the REST API, every approval decided over it too.
struct ScaleBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract:
            "Website projects to done through the REST API of Gateway replicas, with ProviderGateway replicas and StageService shards.")

    @Option(help: "Website projects to run.") var projects = 100
    @Option(help: "ProviderGateway replicas.") var providerReplicas = 3
    @Option(help: "StageService shards.") var stageShards = 2
    @Option(help: "Gateway replicas (sharing their accounts in PostgreSQL).") var gateways = 2
    @Option(help: "Clients creating projects and deciding approvals at once.") var clients = 8
    @Option(help: "The repository's Workflows folder.") var workflows = "Workflows"
    @Option(
        help: "A PostgreSQL server the run makes a database of its own on, dropped after (AIWF_TEST_POSTGRES_URL; scripts/postgres.sh url)."
    )
    var postgresURL = ProcessInfo.processInfo.environment["AIWF_TEST_POSTGRES_URL"]
    @Option(help: "RabbitMQ's management API, where the run makes a virtual host of its own (scripts/broker.sh enables it).")
    var managementURL = "http://127.0.0.1:15672"
    @OptionGroup var broker: BrokerOptions
    @OptionGroup var report: ReportOptions

    func run() async throws {
        guard let postgresURL, let server = URLComponents(string: postgresURL), server.path.count > 1 else {
            throw ValidationError(
                "--postgres-url: the Gateway replicas share a PostgreSQL database; run scripts/postgres.sh start and pass $(scripts/postgres.sh url)"
            )
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aiwf-bench-scale-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try BenchSystem.writeLocalProviders(to: folder, concurrency: 32)

        let database = "aiwf_bench_\(UUID().uuidString.prefix(8).lowercased())"
        try psql(postgresURL, "CREATE DATABASE \(database)")
        defer { try? psql(postgresURL, "DROP DATABASE \(database) WITH (FORCE)") }
        var shared = server
        shared.path = "/\(database)"

        // A virtual host of the run's own: its shard queues must not join the hash exchanges of another system on the
        // broker (nor stay behind in them).
        let amqp = try broker.url()
        let vhost = "aiwf-bench-scale-\(UUID().uuidString.prefix(8).lowercased())"
        let everything = #"{"configure": ".*", "write": ".*", "read": ".*"}"#
        try management("PUT", "/api/vhosts/\(vhost)", body: "{}", as: amqp)
        defer { try? management("DELETE", "/api/vhosts/\(vhost)", as: amqp) }
        try management("PUT", "/api/permissions/\(vhost)/\(amqp.user)", body: everything, as: amqp)

        let system = BenchProcesses(folder: folder, firstPort: 18_380)
        defer { system.stop() }
        let password = "bench password \(UUID().uuidString.prefix(8))"
        let common = [
            "AIWF_AMQP_URL": "amqp://\(amqp.user):\(amqp.password)@\(amqp.host):\(amqp.port)/\(vhost)",
            "AIWF_STAGE_SHARDS": "\(stageShards)", "AIWF_ADMIN_EMAIL": "bench@example.com",
            "AIWF_ADMIN_PASSWORD": password,
        ]
        try await system.start("TemplateService", arguments: ["--workflows-dir", workflows], environment: common)
        try await system.start("ApprovalService", environment: common)
        for shard in 0..<stageShards {
            try await system.start(
                "StageService", instance: "StageService-\(shard)", environment: common.merging(["AIWF_STAGE_SHARD": "\(shard)"]) { $1 })
        }
        for replica in 0..<providerReplicas {
            try await system.start(
                "ProviderGateway", instance: "ProviderGateway-\(replica)",
                arguments: ["--providers", folder.appendingPathComponent("providers.yaml").path], environment: common)
        }
        // One after another: the first makes the tables and the admin.
        for replica in 0..<gateways {
            try await system.start(
                "Gateway", instance: "Gateway-\(replica)", arguments: ["--database-url", shared.string ?? "", "--key-rate", "100000000"],
                environment: common)
        }
        let bases = (0..<gateways).map { "http://127.0.0.1:\(system.ports["Gateway-\($0)"] ?? 0)" }
        let basic = "Basic " + Data("bench@example.com:\(password)".utf8).base64EncodedString()
        let made = try JSONValue.parse(
            Data(try await httpCall(bases[0] + "/api/v1/keys", authorization: basic, body: #"{"name": "bench"}"#).utf8))
        let api = BenchAPI(bases: bases, authorization: "Bearer \(made["key"]?.stringValue ?? "")")

        let sampler = Task {
            while !Task.isCancelled {
                system.sample()
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        defer { sampler.cancel() }
        let started = ContinuousClock.now
        let ids = try await api.create(projects, clients: clients)
        let decided = try await api.approveUntilDone(ids, clients: clients)
        let elapsed = (ContinuousClock.now - started).seconds
        system.sample()
        let tasks = try await api.taskCount(ids)

        var output = Report()
        output.add("elapsed_s", "\(projects) website projects, create to done", elapsed, unit: "s", decimals: 1)
        output.add("projects_per_s", "projects done per second", Double(projects) / elapsed, unit: "projects/s", decimals: 2)
        output.add("tasks_per_s", "tasks done per second (\(tasks) tasks)", Double(tasks) / elapsed, unit: "tasks/s", decimals: 1)
        output.add("approvals", "approvals decided over the API", Double(decided), unit: "")
        for (instance, megabytes) in system.peakMegabytes {
            output.add("rss_mb_\(instance)", "\(instance) peak resident memory", megabytes, unit: "MB", decimals: 1)
        }
        print(
            "\(providerReplicas) ProviderGateway replicas, \(stageShards) StageService shards, \(gateways) Gateway replicas on one broker; "
                + "local provider; requests spread over the Gateways in turn")
        output.print(json: report.json)
    }

    /// Runs one statement on the PostgreSQL server with `psql`.
    private func psql(_ url: String, _ statement: String) throws {
        try run(["psql", url, "--quiet", "--command", statement], failing: "psql could not run: \(statement)")
    }

    /// One call of RabbitMQ's management API with `curl`, as the broker user of the AMQP URL.
    private func management(_ method: String, _ path: String, body: String? = nil, as user: AMQPURL) throws {
        try run(
            [
                "curl", "-fsS", "-o", "/dev/null", "-u", "\(user.user):\(user.password)", "-X", method, "-H",
                "content-type: application/json",
            ]
                + (body.map { ["-d", $0] } ?? []) + [managementURL + path],
            failing: "the management API at \(managementURL) refused \(method) \(path); is rabbitmq_management enabled?")
    }

    private func run(_ arguments: [String], failing message: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError(message) }
    }
}

/// The REST API of several Gateway replicas, asked in turn.
struct BenchAPI: Sendable {
    let bases: [String]
    let authorization: String

    func get(_ path: String, _ turn: Int) async throws -> JSONValue {
        try JSONValue.parse(Data(try await httpCall(bases[turn % bases.count] + path, authorization: authorization, body: nil).utf8))
    }

    func post(_ path: String, _ body: String, _ turn: Int) async throws -> JSONValue {
        try JSONValue.parse(Data(try await httpCall(bases[turn % bases.count] + path, authorization: authorization, body: body).utf8))
    }

    /// Creates and starts `count` websites, `clients` at a time; their ids.
    func create(_ count: Int, clients: Int) async throws -> [String] {
        try await inParallel(Array(0..<count), clients: clients) { index in
            let params = """
                {"company_name": "Shop \(index)", "industry": "retail", "website_type": "business", "page_count": 3, \
                "target_audience": "people nearby", "description": "A small shop that sells useful things every day."}
                """
            let made = try await post(
                "/api/v1/projects", #"{"template": "website", "name": "Shop \#(index)", "start": true, "params": \#(params)}"#, index)
            return made["id"]?.stringValue ?? ""
        }
    }

    /// Approves every approval of `ids` as it comes, until every project is done; fails on a failed project.
    /// Returns how many approvals were decided.
    func approveUntilDone(_ ids: [String], clients: Int) async throws -> Int {
        let wanted = Set(ids)
        var decided = 0
        var turn = 0
        let deadline = ContinuousClock.now + .seconds(max(300, ids.count * 6))
        while ContinuousClock.now < deadline {
            turn += 1
            let pending = (try await get("/api/v1/approvals", turn).arrayValue ?? []).filter {
                wanted.contains($0["projectID"]?.stringValue ?? "")
            }
            decided += try await inParallel(pending, clients: clients) { [turn] approval in
                let body = #"{"decision": "approve", "contentHash": "\#(approval["contentHash"]?.stringValue ?? "")"}"#
                _ = try await post("/api/v1/approvals/\(approval["id"]?.stringValue ?? "")/decision", body, turn)
                return 1
            }.reduce(0, +)
            if pending.isEmpty {
                let counts = try await count(states: ["done", "failed"], turn)
                if counts["failed", default: 0] > 0 { throw ValidationError("\(counts["failed"] ?? 0) projects failed") }
                if counts["done", default: 0] >= ids.count { return decided }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        throw ValidationError("the projects were not done in time")
    }

    /// How many projects are in each of `states` (listed across every shard, page by page).
    private func count(states: [String], _ turn: Int) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for state in states {
            var cursor: String?
            repeat {
                let page = try await get("/api/v1/projects?limit=200&state=\(state)" + (cursor.map { "&cursor=\($0)" } ?? ""), turn)
                counts[state, default: 0] += page["projects"]?.arrayValue?.count ?? 0
                cursor = page["next"]?.stringValue
            } while cursor != nil
        }
        return counts
    }

    /// The tasks of all the projects.
    func taskCount(_ ids: [String]) async throws -> Int {
        try await inParallel(ids, clients: 8) { id in try await get("/api/v1/projects/\(id)", 0)["tasks"]?.arrayValue?.count ?? 0 }
            .reduce(0, +)
    }

    /// `body` for every item, at most `clients` at once; the results in the items' order.
    private func inParallel<Item: Sendable, Result: Sendable>(
        _ items: [Item], clients: Int, _ body: @escaping @Sendable (Item) async throws -> Result
    ) async throws -> [Result] {
        try await withThrowingTaskGroup(of: (Int, Result).self) { group in
            var results: [Int: Result] = [:]
            var next = 0
            while next < items.count || !group.isEmpty {
                while next < items.count, next - results.count < clients {
                    let (index, item) = (next, items[next])
                    group.addTask { (index, try await body(item)) }
                    next += 1
                }
                if let (index, result) = try await group.next() { results[index] = result }
            }
            return (0..<items.count).compactMap { results[$0] }
        }
    }
}
