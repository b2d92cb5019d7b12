import ArgumentParser
import Contracts
import ServiceKit

/// Approval gates: decisions, notifications, reminders and expiry.
@main
struct ApprovalServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ApprovalService", abstract: "Approval gates: decisions, notifications, reminders and expiry.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        let host = ServiceHost(configuration: try options.resolve(service: "ApprovalService", defaultPort: 8084))
        let database = try host.openDatabase()
        let outbox = Outbox(database: database, bus: host.bus, logger: host.logger)
        try await host.run(topology: .workQueue(ServiceQueues.approvalCommands), services: [outbox])
    }
}
