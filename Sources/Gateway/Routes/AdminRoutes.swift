import Contracts
import Foundation
import Hummingbird
import Messaging

/// For admins: how the providers are doing, and what was dead-lettered where.
struct AdminRoutes {
    let backend: Backend

    struct DeadLetters: Codable, Sendable {
        /// Messages waiting in each dead-letter queue there is; a queue the broker does not have is left out.
        var queues: [String: Int]
        var total: Int
    }

    /// The dead-letter queues of the services' own queues; the providers' lanes are added by name.
    static let serviceQueues = [
        ServiceQueues.templateCommands, ServiceQueues.stageCommands, ServiceQueues.stageResults, ServiceQueues.stageApprovalOutcomes,
        ServiceQueues.stageChunks, ServiceQueues.approvalCommands, ServiceQueues.approvalRequests, ServiceQueues.providerRequests,
    ]

    func add(to group: RouterGroup<APIContext>) {
        group.get("admin/providers") { _, context in
            JSONResponse(try await backend.ask(GetProviderStatus(), as: try context.admin()))
        }
        group.get("admin/dead-letters") { _, context in
            let admin = try context.admin()
            let providers = (try? await backend.ask(GetPriceList(), as: admin))?.providers.map(\.name) ?? []
            var counts: [String: Int] = [:]
            for queue in Self.serviceQueues + providers.map({ "provider.lane.\($0)" }) {
                if let count = try? await backend.bus.messageCount(queue: queue + ".dead") { counts[queue + ".dead"] = count }
            }
            return JSONResponse(DeadLetters(queues: counts, total: counts.values.reduce(0, +)))
        }
    }
}
