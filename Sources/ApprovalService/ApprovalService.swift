import ArgumentParser
import Contracts
import ServiceKit
import ServiceLifecycle

/// Approval gates: decisions, notifications, reminders and expiry.
@main
struct ApprovalServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ApprovalService", abstract: "Approval gates: decisions, notifications, reminders and expiry.")

    @OptionGroup var options: ServiceOptions
    @OptionGroup var approvalOptions: ApprovalOptions

    func run() async throws {
        let host = ServiceHost(configuration: try options.resolve(service: "ApprovalService", defaultPort: 8084))
        let settings = try approvalOptions.resolve(dataDirectory: host.configuration.dataDirectory)
        let database = try host.openDatabase(migrations: ApprovalSchema.migrate)
        let service = try ApprovalService.build(database: database, bus: host.bus, settings: settings, logger: host.logger)
        host.logger.info(
            "notifications",
            metadata: [
                "mail": "\(settings.smtp.map { $0.url } ?? "files in \(settings.mailFolder.path)")",
                "webhooks": "\(settings.webhooks.count)",
            ])
        try await host.run(
            topology: service.topology,
            services: [
                service.outbox,
                host.consumer("notifications") { await cancelWhenGracefulShutdown { await service.dispatcher.run() } },
                host.consumer("timers") { await cancelWhenGracefulShutdown { await service.timers.run() } },
                host.consumer("retention") { await cancelWhenGracefulShutdown { await service.retention.run() } },
                host.consumer("approval-requests") { try await service.consumeRequests() },
                host.consumer("approval-decisions") { try await service.serveDecisions() },
            ]
        )
    }
}
