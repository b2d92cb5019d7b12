import Contracts
import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import Messaging
import NIOCore
import ServiceTestSupport
import Testing

@testable import ApprovalService

/// Debian's python3-aiosmtpd behind `scripts/smtp-sink.py`, started and stopped by the test.
private final class SMTPSink {
    let port: Int
    let file: URL
    private var process: Process?

    init(folder: URL) {
        port = Int.random(in: 30_000...45_000)
        file = folder.appendingPathComponent("sink.jsonl")
    }

    func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/smtp-sink.py")
        process.arguments = [script.path, "\(port)", file.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let up = try await eventually {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { Glibc.close(socket) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
        }
        guard up else { throw SMTPError(message: "the SMTP sink did not start (is python3-aiosmtpd installed?)") }
    }

    var mails: [String] {
        ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["data"] as? String
        }
    }

    /// SIGKILL: a child of the test runner may inherit a signal mask that blocks SIGTERM.
    func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite("Notifications", .timeLimit(.minutes(1)), .serialized)
struct NotificationTests {
    @Test func mailToAServerThatIsDownAtFirstArrivesOnceAfterARestart() async throws {
        let bed = try TestBed()
        defer { bed.remove() }
        let sink = SMTPSink(folder: bed.folder)
        defer { sink.stop() }
        var smtpBed = bed
        smtpBed.settings.smtp = SMTPSettings(url: "smtp://127.0.0.1:\(sink.port)", requireStartTLS: false, timeoutSeconds: 5)

        let first = try await smtpBed.start()
        _ = try await first.outbox.commit { db in ((), try first.approvals.create(pagesApproval(), context: MessageContext(), in: db)) }
        try await first.dispatcher.sendDue()
        let failed = try await first.approvals.database.read { db in try NotificationRecord.fetchAll(db) }
        #expect(failed.count == 1 && failed[0].attempts == 1 && failed[0].sentAt == nil)
        #expect(failed[0].lastError?.contains("SMTP") == true)

        // A restart, then the server comes up: the mail goes out on the next attempt, once.
        let second = try await smtpBed.start()
        try await sink.start()
        #expect(
            try await eventually {
                try await second.dispatcher.sendDue()
                return sink.mails.count == 1
            })
        // A pass sends synchronously: had it sent again, the sink would hold the mail when it returns.
        try await second.dispatcher.sendDue()
        #expect(sink.mails.count == 1)
        let mail = try #require(sink.mails.first)
        #expect(mail.contains("Subject: Approval needed: pages of project project-1"))
        #expect(mail.contains("http://portal.test/review/"))
        let sent = try await second.approvals.database.read { db in try NotificationRecord.fetchAll(db) }
        #expect(sent.allSatisfy { $0.sentAt != nil })
    }

    @Test func aServerWithoutSTARTTLSGetsNoMailWhenTLSIsRequired() async throws {
        var bed = try TestBed()
        defer { bed.remove() }
        let sink = SMTPSink(folder: bed.folder)
        defer { sink.stop() }
        try await sink.start()
        bed.settings.smtp = SMTPSettings(url: "smtp://127.0.0.1:\(sink.port)", requireStartTLS: true, timeoutSeconds: 5)
        let service = try await bed.start()
        _ = try await service.outbox.commit { db in ((), try service.approvals.create(pagesApproval(), context: MessageContext(), in: db)) }
        try await service.dispatcher.sendDue()
        let notification = try #require(try await service.approvals.database.read { db in try NotificationRecord.fetchOne(db) })
        #expect(notification.sentAt == nil && notification.attempts == 1)
        // The refusal is the missing TLS itself (curl's CURLE_USE_SSL_FAILED), not some other failure on the way.
        #expect(notification.lastError?.contains("SSL level failed") == true, "\(notification.lastError ?? "no error")")
        #expect(sink.mails.isEmpty, "nothing, credentials included, goes over a connection that was not upgraded")
    }

    @Test func webhooksAreSignedAndRetried() async throws {
        let receiver = try await WebhookReceiver.start(failFirst: 1)
        defer { receiver.stop() }
        let bed = try TestBed(webhooks: ["http://127.0.0.1:\(receiver.port)/hooks"])
        defer { bed.remove() }
        var fast = try await bed.start()
        fast = ApprovalService(
            approvals: fast.approvals, dispatcher: fast.dispatcher.withBackoff(.milliseconds(50)), timers: fast.timers,
            retention: fast.retention, outbox: fast.outbox,
            bus: fast.bus)
        let service = fast
        _ = try await service.outbox.commit { db in
            ((), try service.approvals.create(pagesApproval(assignees: [.user("ana")]), context: MessageContext(), in: db))
        }
        #expect(
            try await eventually {
                try await service.dispatcher.sendDue()
                return await receiver.received.count == 2
            })
        let deliveries = await receiver.received
        #expect(deliveries[0].delivery == deliveries[1].delivery, "the retry is the same delivery")
        let hook = deliveries[1]
        // Checked as a receiver would, without the sender's code: HMAC-SHA256 of "<timestamp>.<body>" under the secret.
        let signed = Data("\(hook.timestamp).".utf8) + hook.body
        let expected = HMAC<SHA256>.authenticationCode(
            for: signed, using: SymmetricKey(data: Data("a-test-secret-of-32-characters!!".utf8))
        ).map { String(format: "%02x", $0) }.joined()
        #expect(hook.signature == "sha256=" + expected)
        #expect(Int(hook.timestamp).map { abs(Date().timeIntervalSince1970 - Double($0)) < 300 } == true, "a fresh unix timestamp")
        let payload = try MessageCoder().decode(WebhookPayload.self, from: hook.body)
        #expect(payload.type == "approval.requested" && payload.approval.projectID == "project-1")
    }
}

/// An HTTP server that records webhook deliveries and fails the first few.
private final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        let delivery: String
        let timestamp: String
        let signature: String
        let body: Data
    }

    private actor Log {
        var received: [Delivery] = []
        var failuresLeft: Int
        init(failuresLeft: Int) { self.failuresLeft = failuresLeft }
        func add(_ delivery: Delivery) -> Bool {
            received.append(delivery)
            guard failuresLeft > 0 else { return true }
            failuresLeft -= 1
            return false
        }
    }

    private let log: Log
    private let task: Task<Void, any Error>
    let port: Int

    private init(log: Log, task: Task<Void, any Error>, port: Int) {
        self.log = log
        self.task = task
        self.port = port
    }

    static func start(failFirst: Int) async throws -> WebhookReceiver {
        let log = Log(failuresLeft: failFirst)
        let router = Router()
        router.post("/hooks") { request, _ -> Response in
            let body = Data(buffer: try await request.body.collect(upTo: 1 << 20))
            let delivery = Delivery(
                delivery: request.headers[HTTPField.Name("x-aiwf-delivery")!] ?? "",
                timestamp: request.headers[HTTPField.Name("x-aiwf-timestamp")!] ?? "",
                signature: request.headers[HTTPField.Name("x-aiwf-signature")!] ?? "", body: body)
            return Response(status: await log.add(delivery) ? .ok : .serviceUnavailable)
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: quiet)
        let task = Task { try await app.runService() }
        var iterator = ports.makeAsyncIterator()
        return WebhookReceiver(log: log, task: task, port: await iterator.next() ?? 0)
    }

    var received: [Delivery] { get async { await log.received } }

    func stop() { task.cancel() }
}
