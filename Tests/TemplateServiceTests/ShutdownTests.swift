import Foundation
import ServiceTestSupport
import Testing

/// SIGTERM always ends a service, in bounded time, even while the broker cannot be reached.
@Suite("Bounded shutdown", .timeLimit(.minutes(1)))
struct ShutdownTests {
    @Test func sigtermEndsAServiceWhoseBrokerIsUnreachable() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shutdown-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let service = try ServiceProcess(
            "TemplateService",
            arguments: [
                "--http-port", "0", "--data-dir", folder.path, "--shutdown-timeout", "2",
                "--workflows-dir", root.appendingPathComponent("Workflows").path,
            ],
            environment: ["AIWF_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/"], folder: folder)
        defer { service.kill() }
        #expect(await service.waitForLog("cannot connect to RabbitMQ"), "it tries the broker: \(service.logText.suffix(500))")
        #expect(service.isRunning, "it waits for the broker rather than giving up: \(service.logText.suffix(500))")
        let stopping = ContinuousClock.now
        service.send(SIGTERM)
        #expect(await service.waitForExit(timeout: .seconds(15)), "still running after SIGTERM: \(service.logText.suffix(800))")
        #expect(ContinuousClock.now - stopping < .seconds(6), "the stop is bounded by --shutdown-timeout 2, plus the watchdog's margin")
    }
}
