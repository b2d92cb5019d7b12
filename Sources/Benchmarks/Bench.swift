import AMQPClient
import ArgumentParser
import Foundation

/// `aiwf-bench`: measurements the targets in the issues are checked against (release builds only).
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aiwf-bench",
        abstract: "Measures aiwf against the local broker. Every subcommand prints a table; with --json its last line is one JSON object.",
        subcommands: [
            AMQPBenchmark.self, ServicesBenchmark.self, ProviderBenchmark.self, EngineBenchmark.self, GatewayBenchmark.self,
            DeliverablesBenchmark.self, ScaleBenchmark.self,
        ]
    )
}

/// Options every subcommand shares.
struct ReportOptions: ParsableArguments {
    @Flag(help: "Print the figures as one JSON object on the last line.")
    var json = false
}

/// Where the broker is, for the subcommands that talk to it.
struct BrokerOptions: ParsableArguments {
    @Option(help: "RabbitMQ URL (AIWF_AMQP_URL).")
    var amqpURL = ProcessInfo.processInfo.environment["AIWF_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/"

    func url() throws -> AMQPURL { try AMQPURL(amqpURL) }
}

/// A binary built beside `aiwf-bench` (the services it measures).
func siblingBinary(_ name: String) -> URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent(name)
}
