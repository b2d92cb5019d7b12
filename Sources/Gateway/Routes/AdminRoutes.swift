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

    struct Replayed: Codable, Sendable {
        var queue: String
        var into: String
        var moved: Int
    }

    func add(to group: RouterGroup<APIContext>) {
        group.get("admin/providers") { _, context in
            JSONResponse(try await backend.ask(GetProviderStatus(), as: try context.admin()))
        }
        group.get("admin/dead-letters") { _, context in
            let counts = try await Self.deadLetterCounts(backend: backend, as: try context.admin())
            let queues = Dictionary(counts.map { ($0.queue, $0.count) }, uniquingKeysWith: { first, _ in first })
            return JSONResponse(DeadLetters(queues: queues, total: counts.reduce(0) { $0 + $1.count }))
        }
        group.post("admin/dead-letters/:queue/replay") { request, context in
            let admin = try context.admin()
            var limit = Self.replayLimit
            if let text = request.uri.queryParameters["limit"].map(String.init) {
                guard let number = Int(text), (1...100_000).contains(number) else {
                    throw APIError.badRequest(
                        "limit: a whole number from 1 to 100000", details: [.init(pointer: "/limit", message: "got '\(text.prefix(40))'")])
                }
                limit = number
            }
            return JSONResponse(try await Self.replay(try context.parameters.require("queue"), limit: limit, backend: backend, as: admin))
        }
    }

    /// How many dead letters one replay moves back unless told otherwise.
    static let replayLimit = 1_000

    /// The dead-letter queue of every service queue and every provider lane.
    static func deadLetterQueues(backend: Backend, as admin: Identity) async throws -> [String] {
        let providers = (try? await backend.ask(GetPriceList(), as: admin))?.providers.map(\.name) ?? []
        return (serviceQueues + providers.map { "provider.lane.\($0)" }).map { $0 + ".dead" }
    }

    /// The messages waiting in each dead-letter queue the broker has, in the order of ``deadLetterQueues``.
    static func deadLetterCounts(backend: Backend, as admin: Identity) async throws -> [(queue: String, count: Int)] {
        var counts: [(queue: String, count: Int)] = []
        for queue in try await deadLetterQueues(backend: backend, as: admin) {
            if let count = try? await backend.bus.messageCount(queue: queue) { counts.append((queue, count)) }
        }
        return counts
    }

    /// Moves up to `limit` messages of the dead-letter queue `queue` back into the queue they died in.
    static func replay(_ queue: String, limit: Int, backend: Backend, as admin: Identity) async throws -> Replayed {
        guard try await deadLetterQueues(backend: backend, as: admin).contains(queue) else {
            throw APIError.notFound("no dead-letter queue '\(queue.prefix(200))'; GET /api/v1/admin/dead-letters lists them")
        }
        let source = String(queue.dropLast(".dead".count))
        return Replayed(queue: queue, into: source, moved: try await backend.bus.moveMessages(from: queue, to: source, limit: limit))
    }
}
