import Contracts
import Foundation
import Messaging

/// The services behind the Gateway, asked over request/reply as the calling user.
struct Backend: Sendable {
    let bus: any MessageBus
    /// How long a service has to answer before the caller gets a 503.
    var timeout: Duration = .seconds(10)
    /// How StageService is split: a question about no one project is asked of every shard.
    var shards = StageShards(count: 1)

    func ask<R: Request>(_ request: R, as identity: Identity?) async throws -> R.Reply {
        try await bus.request(request, shards: shards, context: MessageContext(actor: identity?.actor), timeout: timeout)
    }
}
