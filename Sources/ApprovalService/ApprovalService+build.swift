import AMQPClient
import AsyncHTTPClient
import Contracts
import Foundation
import GRDB
import Logging
import Messaging
import RuntimeSupport
import ServiceStorage

/// The parts of ApprovalService, built once by `main` and by the tests.
struct ApprovalService: Sendable {
    let approvals: Approvals
    let dispatcher: NotificationDispatcher
    let timers: TimerRunner
    let retention: Retention
    let outbox: Outbox
    let bus: any MessageBus

    static func build(
        database: any DatabaseWriter, bus: any MessageBus, settings: ApprovalSettings, logger: Logger, httpClient: HTTPClient = .shared
    ) throws -> ApprovalService {
        let outbox = Outbox(database: database, bus: bus, logger: logger)
        let links = ReviewLinks(key: try ReviewLinks.loadKey(file: settings.reviewLinkKeyFile))
        let notificationsAdded = WakeSignal()
        let approvals = Approvals(
            database: database, outbox: outbox, links: links, webhooks: settings.webhooks, notificationsAdded: notificationsAdded,
            timersAdded: WakeSignal(), logger: logger)
        let mailer: any Mailer = settings.smtp.map { SMTPMailer(settings: $0) } ?? MailFolder(directory: settings.mailFolder)
        let dispatcher = NotificationDispatcher(
            database: database, links: links, mailer: mailer, webhooks: WebhookSender(client: httpClient, secret: settings.webhookSecret),
            portalURL: settings.portalURL, mailFrom: settings.mailFrom, signal: notificationsAdded, logger: logger)
        let timers = TimerRunner(database: database, approvals: approvals, signal: approvals.timersAdded, logger: logger)
        return ApprovalService(
            approvals: approvals, dispatcher: dispatcher, timers: timers, retention: Retention(database: database, logger: logger),
            outbox: outbox, bus: bus)
    }

    /// `approval.commands` takes `RequestApproval`; `approval.requests` answers decisions and queries.
    var topology: Topology {
        .workQueue(ServiceQueues.approvalCommands, bindings: [(Exchange.commands, RequestApproval.type)])
            + .workQueue(ServiceQueues.approvalRequests, bindings: approvals.handlers.types.map { (Exchange.commands, $0) })
    }

    func consumeRequests() async throws {
        try await bus.consume(queue: ServiceQueues.approvalCommands, options: ConsumeOptions(prefetch: 16, concurrency: 1)) { message in
            try await approvals.handle(message)
        }
    }

    /// Decisions are answered one at a time: each reads and writes its approval in one transaction anyway.
    func serveDecisions() async throws {
        try await bus.serve(
            approvals.handlers, queue: ServiceQueues.approvalRequests, options: ConsumeOptions(prefetch: 16, concurrency: 4))
    }
}
