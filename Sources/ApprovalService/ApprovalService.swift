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
        try await ServiceHost.runWithOutbox(
            service: "ApprovalService", defaultPort: 8084, queue: ServiceQueues.approvalCommands, options: options)
    }
}
