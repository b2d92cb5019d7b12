import ArgumentParser
import AsyncHTTPClient
import FakeProvider
import Foundation
import NIOCore

/// The Gateway's HTTP paths on the local broker with the release binaries: `/v1/chat/completions` against a fake
/// provider (added latency over calling it directly, throughput at many clients) and `GET /api/v1/projects/{id}`.
struct GatewayBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Added latency and throughput of /v1/chat/completions, and GET /api/v1/projects/{id}, through the Gateway.")

    @Option(help: "Sequential requests each way for the latency figures.") var requests = 500
    @Option(help: "Requests for each throughput figure.") var throughputRequests = 5000
    @Option(help: "Clients at once for the throughput figures.") var concurrency = 64
    @Option(help: "The repository's Workflows folder (for the project read).") var workflows = "Workflows"
    @OptionGroup var broker: BrokerOptions
    @OptionGroup var report: ReportOptions

    func run() async throws {
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aiwf-bench-gateway-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try """
        default_provider: fake
        providers:
          fake:
            kind: openai_compatible
            base_url: \(fake.baseURL)/v1
            models: {m: {input_per_million: 1, output_per_million: 1}}
            limits: {max_concurrency: \(concurrency)}
        """.write(to: folder.appendingPathComponent("providers.yaml"), atomically: true, encoding: .utf8)
        let services: [(String, [String])] = [
            ("TemplateService", ["--workflows-dir", workflows]), ("StageService", []),
            ("ProviderGateway", ["--providers", folder.appendingPathComponent("providers.yaml").path]),
            ("Gateway", ["--key-rate", "100000000"]),
        ]
        let system = BenchProcesses(folder: folder, firstPort: 18_280)
        defer { system.stop() }
        let password = "bench password \(UUID().uuidString.prefix(8))"
        let environment = ["AIWF_AMQP_URL": broker.amqpURL, "AIWF_ADMIN_EMAIL": "bench@example.com", "AIWF_ADMIN_PASSWORD": password]
        for (name, extra) in services { try await system.start(name, arguments: extra, environment: environment) }
        let base = "http://127.0.0.1:\(system.ports["Gateway"] ?? 0)"
        let basic = "Basic " + Data("bench@example.com:\(password)".utf8).base64EncodedString()
        let key =
            try await httpCall(base + "/api/v1/keys", authorization: basic, body: #"{"name": "bench"}"#)
            .split(separator: "\"").drop { $0 != "key" }.dropFirst(2).first.map(String.init) ?? ""
        let bearer = "Bearer \(key)"
        let chat = #"{"model":"m","messages":[{"role":"user","content":"Say hello."}]}"#

        // Warm up both paths.
        for _ in 0..<50 {
            _ = try await httpCall(fake.baseURL + "/v1/chat/completions", authorization: nil, body: chat)
            _ = try await httpCall(base + "/v1/chat/completions", authorization: bearer, body: chat)
        }
        var direct: [Double] = []
        var through: [Double] = []
        for _ in 0..<requests {
            direct.append(try await timed { _ = try await httpCall(fake.baseURL + "/v1/chat/completions", authorization: nil, body: chat) })
            through.append(try await timed { _ = try await httpCall(base + "/v1/chat/completions", authorization: bearer, body: chat) })
        }
        let (chatThroughput, _) = try await throughput {
            _ = try await httpCall(base + "/v1/chat/completions", authorization: bearer, body: chat)
        }
        let gatewayRSS = system.residentMegabytes("Gateway")
        let providerRSS = system.residentMegabytes("ProviderGateway")

        let params = """
            {"company_name": "Bench", "industry": "bakery", "website_type": "business", "page_count": 3, \
            "target_audience": "families", "description": "A neighbourhood bakery that sells bread and cakes every day."}
            """
        let created = try await httpCall(
            base + "/api/v1/projects", authorization: bearer, body: #"{"template": "website", "name": "Bench", "params": \#(params)}"#)
        let id = created.split(separator: "\"").drop { $0 != "id" }.dropFirst(2).first.map(String.init) ?? ""
        let (readThroughput, reads) = try await throughput {
            _ = try await httpCall(base + "/api/v1/projects/\(id)", authorization: bearer, body: nil)
        }

        let directP = Percentiles(direct)
        let throughP = Percentiles(through)
        let readP = Percentiles(reads)
        var output = Report()
        output.add("direct_p50_ms", "fake provider called directly, p50", directP.value(at: 50), unit: "ms", decimals: 3)
        output.add("chat_p50_ms", "/v1/chat/completions through the Gateway, p50", throughP.value(at: 50), unit: "ms", decimals: 3)
        output.add("added_p50_ms", "added latency p50", throughP.value(at: 50) - directP.value(at: 50), unit: "ms", decimals: 3)
        output.add("added_p99_ms", "added latency p99", throughP.value(at: 99) - directP.value(at: 99), unit: "ms", decimals: 3)
        output.add("chat_throughput", "/v1/chat/completions at \(concurrency) clients", chatThroughput, unit: "req/s")
        output.add("gateway_rss_mb", "Gateway resident memory after it", gatewayRSS, unit: "MB", decimals: 1)
        output.add("provider_rss_mb", "ProviderGateway resident memory after it", providerRSS, unit: "MB", decimals: 1)
        output.add("project_read_throughput", "GET /api/v1/projects/{id} at \(concurrency) clients", readThroughput, unit: "req/s")
        output.add("project_read_p99_ms", "GET /api/v1/projects/{id}, p99", readP.value(at: 99), unit: "ms", decimals: 2)
        print("\(requests) sequential requests each way; \(throughputRequests) at \(concurrency) clients; fake provider on loopback")
        output.print(json: report.json)
    }

    private func timed(_ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        return (ContinuousClock.now - start).seconds * 1000
    }

    /// Requests per second with `concurrency` clients each sending one request after another, and each request's
    /// latency in milliseconds.
    private func throughput(_ body: @escaping @Sendable () async throws -> Void) async throws -> (Double, [Double]) {
        let start = ContinuousClock.now
        let each = throughputRequests / concurrency
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var latencies: [Double] = []
                    for _ in 0..<each {
                        let started = ContinuousClock.now
                        try await body()
                        latencies.append((ContinuousClock.now - started).seconds * 1000)
                    }
                    return latencies
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        return (Double(each * concurrency) / (ContinuousClock.now - start).seconds, latencies)
    }
}
