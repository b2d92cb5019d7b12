import Contracts
import Foundation

extension MessageBus {
    /// Sends a request to StageService split into `shards`: one about a project goes to its shard by its shard key;
    /// an ``AcrossShards`` request is asked of every shard at once and the answers merged.
    public func request<R: Request>(
        _ request: R, shards: StageShards, context: MessageContext = MessageContext(), timeout: Duration = .seconds(10)
    ) async throws -> R.Reply {
        guard let across = request as? any AcrossShards else {
            return try await self.request(request, context: context, timeout: timeout)
        }
        // The opened type's reply is R.Reply, as the request is the same value.
        return try await askEveryShard(across, shards: shards, context: context, timeout: timeout) as! R.Reply
    }

    private func askEveryShard<R: AcrossShards>(
        _ request: R, shards: StageShards, context: MessageContext, timeout: Duration
    ) async throws -> R.Reply {
        let outcomes = await withTaskGroup(of: Result<R.Reply, any Error>.self) { group in
            for shard in shards.all {
                group.addTask {
                    do {
                        let queue = shards.queue(R.stageQueue, shard: shard)
                        return .success(try await self.request(request, context: context, timeout: timeout, queue: queue))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var outcomes: [Result<R.Reply, any Error>] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        var replies: [R.Reply] = []
        var notFound: (any Error)?
        for outcome in outcomes {
            switch outcome {
            case .success(let reply): replies.append(reply)
            case .failure(let error as RemoteError) where error.code == "not-found": notFound = error
            case .failure(let error): throw error
            }
        }
        guard !replies.isEmpty else { throw notFound ?? RemoteError(code: "not-found", message: "no shard answered") }
        return R.merge(replies, for: request)
    }
}
