import ArgumentParser
import Foundation

/// Start-to-ready time, idle memory and stop time of each service binary.
struct ServicesBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "services",
        abstract: "Starts each service (from the folder aiwf-bench runs from), measures start→ready, idle RSS and stop after SIGTERM."
    )

    @Option(help: "Seconds each service idles before its memory is read.")
    var idle = 3

    @Option(help: "First HTTP port to use; each service gets the next one.")
    var basePort = 18_080

    @OptionGroup var report: ReportOptions

    func run() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("aiwf-bench-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: data) }
        var output = Report()
        for (offset, service) in ["TemplateService", "StageService", "ProviderGateway", "ApprovalService", "Gateway"].enumerated() {
            let port = basePort + offset
            let process = Process()
            process.executableURL = siblingBinary(service)
            process.arguments = ["--http-port", "\(port)", "--data-dir", data.path, "--log-level", "error"]
            let start = ContinuousClock.now
            try process.run()
            guard try await waitUntilReady(port: port, timeout: .seconds(30)) else {
                process.terminate()
                throw ValidationError("\(service) did not become ready on port \(port) within 30 s; is RabbitMQ running?")
            }
            let ready = ContinuousClock.now - start
            try await Task.sleep(for: .seconds(idle))
            let rss = residentMegabytes(of: process.processIdentifier)
            let stopStart = ContinuousClock.now
            process.terminate()
            process.waitUntilExit()
            let stop = ContinuousClock.now - stopStart
            output.add("\(service)_ready_ms", "\(service): start → ready", ready.seconds * 1000, unit: "ms")
            output.add("\(service)_idle_rss_mb", "\(service): idle resident memory", rss, unit: "MB", decimals: 1)
            output.add("\(service)_stop_ms", "\(service): stop after SIGTERM", stop.seconds * 1000, unit: "ms")
        }
        output.print(json: report.json)
    }
}
