import AMQPClient
import ArgumentParser
import Foundation
import Logging
import RuntimeSupport

/// Publish-with-confirms and consume-with-ack throughput, and publish→consume latency at a fixed offered load.
struct AMQPBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "amqp",
        abstract: "Throughput and latency of the AMQP runtime against the local broker, for a classic and a quorum queue."
    )

    @OptionGroup var broker: BrokerOptions

    @Option(help: "Messages per throughput run.")
    var messages = 50_000

    @Option(help: "Body size in bytes.")
    var size = 1_024

    @Option(help: "Unacknowledged deliveries the consumer may hold.")
    var prefetch: UInt16 = 200

    @Option(help: "Publishes awaiting their confirm at once.")
    var window = 512

    @Option(help: "Offered load for the latency run, in messages per second.")
    var rate = 1_000

    @Option(help: "Length of the latency run, in seconds.")
    var seconds = 5

    @OptionGroup var report: ReportOptions

    func run() async throws {
        var logger = Logger(label: "aiwf-bench")
        logger.logLevel = .error
        let url = try broker.url()
        var publisherOptions = AMQPConnectionOptions(url: url, name: "aiwf-bench.publish")
        publisherOptions.publishWindow = window
        let publisher = AMQPConnection(options: publisherOptions, logger: logger)
        let consumer = AMQPConnection(options: AMQPConnectionOptions(url: url, name: "aiwf-bench.consume"), logger: logger)
        var output = Report()
        for kind in [QueueSpec.Kind.classic, .quorum] {
            let queue = "aiwf-bench.\(kind.rawValue).\(UUID().uuidString.prefix(8))"
            try await publisher.declare(Topology(queues: [QueueSpec(name: queue, kind: kind)]))
            let publishRate = try await measurePublish(publisher, queue: queue)
            let consumeRate = try await measureConsume(consumer, queue: queue, count: messages)
            let latency = try await measureLatency(publisher, consumer, queue: queue)
            try await publisher.delete(queue: queue)
            let name = kind.rawValue
            output.add("\(name)_publish_per_second", "\(name): publish with confirms", publishRate, unit: "msg/s")
            output.add("\(name)_consume_per_second", "\(name): consume with acks", consumeRate, unit: "msg/s")
            for percentile in [50.0, 95, 99] {
                output.add(
                    "\(name)_latency_p\(Int(percentile))_ms", "\(name): latency p\(Int(percentile)) at \(rate) msg/s",
                    latency.value(at: percentile), unit: "ms", decimals: 3
                )
            }
            output.add("\(name)_latency_max_ms", "\(name): latency max", latency.value(at: 100), unit: "ms", decimals: 3)
        }
        await consumer.close()
        await publisher.close()
        print(
            "\(messages) persistent messages of \(size) B per run; confirm window \(window); prefetch \(prefetch); one connection each way")
        output.print(json: report.json)
    }

    /// All messages in one pipelined call: the window keeps up to 512 unconfirmed.
    private func measurePublish(_ publisher: AMQPConnection, queue: String) async throws -> Double {
        let body = Data(repeating: 0x61, count: size)
        let batch = (0..<messages).map { _ in OutgoingMessage(exchange: "", routingKey: queue, body: body) }
        let start = ContinuousClock.now
        try await publisher.publish(batch)
        return Double(messages) / (ContinuousClock.now - start).seconds
    }

    private func measureConsume(_ consumer: AMQPConnection, queue: String, count: Int) async throws -> Double {
        let subscription = try await consumer.consume(queue: queue, prefetch: prefetch)
        var received = 0
        let start = ContinuousClock.now
        for try await delivery in subscription.deliveries {
            consumer.ack(delivery)
            received += 1
            if received == count { break }
        }
        let elapsed = ContinuousClock.now - start
        await subscription.cancel()
        return Double(count) / elapsed.seconds
    }

    /// Publishes at a fixed rate, each message stamped with its send time, and measures when it is consumed.
    private func measureLatency(_ publisher: AMQPConnection, _ consumer: AMQPConnection, queue: String) async throws -> Percentiles {
        let total = rate * seconds
        let subscription = try await consumer.consume(queue: queue, prefetch: prefetch)
        let padding = Data(repeating: 0x61, count: max(0, size - 8))
        return try await withThrowingTaskGroup(of: [Double]?.self) { group in
            group.addTask {
                var latencies: [Double] = []
                latencies.reserveCapacity(total)
                for try await delivery in subscription.deliveries {
                    let now = monotonicNanoseconds()
                    let sent = delivery.body.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    latencies.append(Double(now - sent) / 1_000_000)
                    consumer.ack(delivery)
                    if latencies.count == total { break }
                }
                await subscription.cancel()
                return latencies
            }
            group.addTask {
                let interval = Duration.seconds(1) / rate
                let clock = ContinuousClock()
                let start = clock.now
                try await withThrowingTaskGroup(of: Void.self) { publishes in
                    for index in 0..<total {
                        try await clock.sleep(until: start + interval * index)
                        var stamp = monotonicNanoseconds()
                        let body = Data(bytes: &stamp, count: 8) + padding
                        publishes.addTask {
                            try await publisher.publish(OutgoingMessage(exchange: "", routingKey: queue, body: body))
                        }
                    }
                    try await publishes.waitForAll()
                }
                return nil
            }
            var result: [Double] = []
            for try await latencies in group {
                if let latencies { result = latencies }
            }
            return Percentiles(result)
        }
    }
}
