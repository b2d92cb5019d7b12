import AMQPClient
import Contracts
import Foundation
import Logging
import Messaging
import ServiceTestSupport
import Testing

/// The real TemplateService process, sent uploads that would exhaust its memory: it answers at once, stays small
/// and keeps answering.
@Suite("Hostile templates against a running TemplateService", .timeLimit(.minutes(1)))
struct HostileTemplateTests {
    @Test func anAliasBombIsRefusedAtOnceAndTheServiceStaysSmallAndAnswers() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bomb-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let port = ServiceProcess.freePort()
        let service = try ServiceProcess(
            "TemplateService",
            arguments: [
                "--http-port", "\(port)", "--data-dir", folder.path, "--workflows-dir", root.appendingPathComponent("Workflows").path,
            ], folder: folder)
        defer { service.kill() }
        #expect(await service.waitUntilReady(port: port), "not ready: \(service.logText.suffix(500))")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let url = try AMQPURL(ProcessInfo.processInfo.environment["AIWF_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/")
        let client = AMQPBus(url: url, serviceName: "test.bomb", logger: logger)

        var lines = [#"a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]"#]
        for level in 1...8 {
            lines.append("a\(level): &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ","))]")
        }
        lines.append("code: bomb\nname: Bomb\ndescription: x\nstages: *a8")
        let bomb = lines.joined(separator: "\n")
        let deep = "code: deep\nstages: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)

        for hostile in [bomb, deep, String(repeating: "x", count: 2 * 1024 * 1024)] {
            let started = ContinuousClock.now
            // Served by whichever TemplateService consumes the queue; every one runs this code.
            let reply = try await client.request(ValidateTemplate(yaml: hostile), timeout: .seconds(30))
            #expect(!reply.valid)
            // A parser that walked the bomb would take minutes. Alone this takes under 50 ms; with the whole suite on
            // two cores one run took 9.9 s (and a bound of 5 s, then 9 s, was missed), hence the room.
            #expect(ContinuousClock.now - started < .seconds(25))
        }
        let ordinary = try await client.request(ListTemplates(), timeout: .seconds(10))
        #expect(!ordinary.isEmpty)
        #expect(service.isRunning)
        let status = try String(contentsOfFile: "/proc/\(service.process.processIdentifier)/status", encoding: .utf8)
        let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        #expect(rss < 300_000, "TemplateService grew to \(rss) kB")
        await client.close()
    }
}
