import AMQPClient
import ArgumentParser
import AsyncHTTPClient
import Contracts
import FakeProvider
import Foundation
import Logging
import Messaging
import NIOCore
import RuntimeSupport

/// Added latency of the gateway path over calling the provider directly, throughput with concurrent requests,
/// and the gateway's memory, against a fake provider on loopback and a ProviderGateway process.
struct ProviderBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provider",
        abstract: "Gateway path latency over a direct provider call, throughput at 64 concurrent requests, and memory."
    )

    @OptionGroup var broker: BrokerOptions

    @Option(help: "Sequential requests for the latency runs.")
    var requests = 500

    @Option(help: "Requests for the throughput run.")
    var throughputRequests = 3_000

    @Option(help: "Requests in flight during the throughput run.")
    var concurrency = 64

    @OptionGroup var report: ReportOptions

    func run() async throws {
        var logger = Logger(label: "aiwf-bench")
        logger.logLevel = .error
        let fake = try await FakeProvider.start()
        defer { fake.stop() }
        let provider = "bench\(UUID().uuidString.prefix(6).lowercased())"
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aiwf-bench-\(provider)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let providersFile = folder.appendingPathComponent("providers.yaml")
        try """
        default_provider: \(provider)
        providers:
          \(provider):
            kind: openai_compatible
            base_url: \(fake.baseURL)/v1
            models: {m: {input_per_million: 1, output_per_million: 1}}
            limits: {max_concurrency: \(concurrency)}
        """.write(to: providersFile, atomically: true, encoding: .utf8)

        let direct = try await directLatencies(fake)

        let gateway = Process()
        gateway.executableURL = siblingBinary("ProviderGateway")
        gateway.arguments = ["--http-port", "0", "--data-dir", folder.path, "--providers", providersFile.path, "--log-level", "error"]
        try gateway.run()
        defer { if gateway.isRunning { gateway.terminate() } }

        let url = try broker.url()
        let bus = AMQPBus(url: url, serviceName: "aiwf-bench.provider", logger: logger)
        let results = "aiwf-bench.results.\(provider)"
        var resultsQueue = QueueSpec(name: results)
        resultsQueue.autoDelete = true  // gone with the bench, even when it does not get to clean up
        try await bus.declare(
            Topology.standardExchanges
                + Topology(
                    queues: [resultsQueue],
                    bindings: [BindingSpec(queue: results, exchange: Exchange.events, routingKey: ContentGenerated.type)]
                )
        )
        let collector = ResultCollector()
        let listener = AMQPConnection(options: AMQPConnectionOptions(url: url, name: "aiwf-bench.results"), logger: logger)
        defer { Task { await listener.close() } }
        let subscription = try await listener.consume(queue: results, prefetch: 500)
        let collecting = Task {
            for try await delivery in subscription.deliveries {
                listener.ack(delivery)
                if let envelope = try? MessageCoder().decode(Envelope<ContentGenerated>.self, from: delivery.body) {
                    await collector.arrived(envelope.payload.requestID)
                }
            }
        }
        defer { collecting.cancel() }

        // Warm up: the gateway is ready once its lane takes a request and the answer comes back.
        let warmupDeadline = ContinuousClock.now + .seconds(60)
        while true {
            do {
                _ = try await roundTrip(bus, collector, provider: provider, id: "\(provider)-warmup", timeout: .seconds(60))
                break
            } catch let error as AMQPError where error.code == .unroutable && ContinuousClock.now < warmupDeadline {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        // The floor: one message from the bench through the broker back to the bench, as each of the gateway
        // path's two hops (request in, result out) costs at least that.
        var hops: [Double] = []
        for index in 0..<requests {
            let id = "\(provider)-hop-\(index)"
            let start = ContinuousClock.now
            let waiting = Task { await collector.wait(for: id) }
            let event = ContentGenerated(
                requestID: id, content: "", tokensIn: 0, tokensOut: 0, cost: 0, provider: provider, model: "m", latencyMilliseconds: 0,
                attempts: 0)
            try await bus.publish(try .direct(event, to: results, context: MessageContext()))
            await waiting.value
            hops.append((ContinuousClock.now - start).seconds * 1000)
        }
        var viaGateway: [Double] = []
        for index in 0..<requests {
            viaGateway.append(
                try await roundTrip(bus, collector, provider: provider, id: "\(provider)-seq-\(index)", timeout: .seconds(10)))
        }

        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func launch() {
                let id = "\(provider)-tp-\(next)"
                next += 1
                group.addTask { _ = try await roundTrip(bus, collector, provider: provider, id: id, timeout: .seconds(60)) }
            }
            for _ in 0..<min(concurrency, throughputRequests) { launch() }
            while try await group.next() != nil {
                if next < throughputRequests { launch() }
            }
        }
        let throughput = Double(throughputRequests) / (ContinuousClock.now - start).seconds
        let rss = residentMegabytes(of: gateway.processIdentifier)
        await subscription.close()
        gateway.terminate()
        gateway.waitUntilExit()
        // Every run has its own provider name: leave none of its queues behind (the results queue would otherwise
        // receive every later run's events).
        let queues =
            ["aiwf-bench.results.\(provider)", "provider.lane.\(provider)", "provider.lane.\(provider).dead"]
            + ["permits", "token-permits", "slots.\(concurrency)", "slots.\(concurrency).seeded", "pacer-lock"].map {
                "provider.\(provider).\($0)"
            }
        for queue in queues { try? await bus.delete(queue: queue) }
        await bus.close()

        let directPercentiles = Percentiles(direct)
        let gatewayPercentiles = Percentiles(viaGateway)
        var output = Report()
        output.add("direct_p50_ms", "direct call p50", directPercentiles.value(at: 50), unit: "ms", decimals: 3)
        output.add("direct_p99_ms", "direct call p99", directPercentiles.value(at: 99), unit: "ms", decimals: 3)
        output.add("gateway_p50_ms", "through the gateway p50", gatewayPercentiles.value(at: 50), unit: "ms", decimals: 3)
        output.add("gateway_p99_ms", "through the gateway p99", gatewayPercentiles.value(at: 99), unit: "ms", decimals: 3)
        output.add(
            "added_p50_ms", "added latency p50", gatewayPercentiles.value(at: 50) - directPercentiles.value(at: 50), unit: "ms", decimals: 3
        )
        output.add(
            "added_p99_ms", "added latency p99", gatewayPercentiles.value(at: 99) - directPercentiles.value(at: 99), unit: "ms", decimals: 3
        )
        let hopPercentiles = Percentiles(hops)
        output.add("broker_hop_p50_ms", "one broker hop p50 (the path has two)", hopPercentiles.value(at: 50), unit: "ms", decimals: 3)
        output.add("broker_hop_p99_ms", "one broker hop p99", hopPercentiles.value(at: 99), unit: "ms", decimals: 3)
        output.add("throughput_per_second", "throughput at \(concurrency) concurrent", throughput, unit: "req/s")
        output.add("gateway_rss_mb", "ProviderGateway resident memory after the runs", rss, unit: "MB", decimals: 1)
        print("\(requests) sequential requests each way; \(throughputRequests) at \(concurrency) concurrent; fake provider on loopback")
        output.print(json: report.json)
    }

    private func directLatencies(_ fake: FakeProvider) async throws -> [Double] {
        let body = #"{"model":"m","messages":[{"role":"user","content":"Say hello."}]}"#
        var latencies: [Double] = []
        for _ in 0..<requests {
            var request = HTTPClientRequest(url: fake.baseURL + "/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
            let start = ContinuousClock.now
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 20)
            latencies.append((ContinuousClock.now - start).seconds * 1000)
        }
        return latencies
    }

    /// Sends one request and returns milliseconds until its result event arrived.
    private func roundTrip(_ bus: AMQPBus, _ collector: ResultCollector, provider: String, id: String, timeout: Duration) async throws
        -> Double
    {
        let start = ContinuousClock.now
        let waiting = Task { await collector.wait(for: id) }
        do {
            try await bus.send(GenerateContent(requestID: id, provider: provider, user: "Say hello."), context: MessageContext())
        } catch {
            await collector.abandon(id)
            throw error
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await waiting.value }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw ValidationError(
                    "no result for \(id) within \(timeout); is the ProviderGateway binary built (swift build -c release)?")
            }
            try await group.next()
            group.cancelAll()
        }
        return (ContinuousClock.now - start).seconds * 1000
    }
}

/// Result events by request id, and callers waiting for them.
private actor ResultCollector {
    private var arrivedIDs: Set<String> = []
    private var waiters: [String: CheckedContinuation<Void, Never>] = [:]

    func arrived(_ id: String) {
        if let waiter = waiters.removeValue(forKey: id) { waiter.resume() } else { arrivedIDs.insert(id) }
    }

    /// Stops waiting for a request that was never sent.
    func abandon(_ id: String) {
        if let waiter = waiters.removeValue(forKey: id) { waiter.resume() } else { arrivedIDs.insert(id) }
    }

    func wait(for id: String) async {
        if arrivedIDs.remove(id) != nil { return }
        await withCheckedContinuation { waiters[id] = $0 }
    }
}
