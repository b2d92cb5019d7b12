import ArgumentParser

/// `aiwf-bench`: measurements the targets in the issues are checked against (release builds only).
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aiwf-bench",
        abstract: "Measures aiwf against the local broker. Every subcommand prints a table; with --json its last line is one JSON object.",
        subcommands: [AMQPBenchmark.self, ServicesBenchmark.self, ProviderBenchmark.self]
    )
}

/// Options every subcommand shares.
struct ReportOptions: ParsableArguments {
    @Flag(help: "Print the figures as one JSON object on the last line.")
    var json = false
}
