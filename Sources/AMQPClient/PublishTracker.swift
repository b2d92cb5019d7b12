import DequeModule
import Foundation
import Synchronization

/// The publishes of one connection, from the caller's hand-over to the broker's confirm. Pure bookkeeping: the
/// driver sends and reads, this decides what is sent next, what a confirm settles and what a lost channel means.
///
/// Messages wait in `outbound` until the window has room, then in `unconfirmed` under their delivery tag. A message
/// is sent at most `maximumAttempts` times: each loss of the channel before its confirm counts one, so a message
/// whose publish keeps breaking the channel fails instead of being re-sent without bound.
struct PublishTracker {
    let window: Int
    let maximumAttempts: Int

    private var outbound: Deque<PendingPublish> = []
    private var unconfirmed: [UInt64: PendingPublish] = [:]
    /// Only a mandatory publish can come back as `basic.return`, and the return names it by message id.
    private var tagByMessageID: [String: UInt64] = [:]
    private var returnedTags: Set<UInt64> = []
    private var nextDeliveryTag: UInt64 = 1

    init(window: Int, maximumAttempts: Int = 5) {
        self.window = max(1, window)
        self.maximumAttempts = max(1, maximumAttempts)
    }

    /// Nothing waits to be sent or confirmed.
    var isIdle: Bool { outbound.isEmpty && unconfirmed.isEmpty }
    var unconfirmedCount: Int { unconfirmed.count }
    var outboundCount: Int { outbound.count }

    mutating func enqueue(_ publish: PendingPublish) {
        outbound.append(publish)
    }

    /// The next message to send when the window has room; messages whose caller gave up are dropped on the way.
    mutating func next() -> PendingPublish? {
        while unconfirmed.count < window, let publish = outbound.popFirst() {
            if !publish.waiter.isSettled { return publish }
        }
        return nil
    }

    /// Puts a message taken with ``next()`` back at the head, unsent (the connection broke before it went out).
    mutating func putBack(_ publish: PendingPublish) {
        outbound.prepend(publish)
    }

    /// Records that `publish` went out on the channel; returns its delivery tag.
    @discardableResult
    mutating func sent(_ publish: PendingPublish) -> UInt64 {
        var publish = publish
        publish.attempts += 1
        let tag = nextDeliveryTag
        nextDeliveryTag += 1
        unconfirmed[tag] = publish
        if publish.message.mandatory { tagByMessageID[publish.message.messageID] = tag }
        return tag
    }

    /// The broker returned a mandatory message: no queue took it. Its confirm follows and settles it.
    mutating func returned(messageID: String?) {
        if let messageID, let tag = tagByMessageID[messageID] { returnedTags.insert(tag) }
    }

    /// Settles what a `basic.ack` / `basic.nack` covers.
    mutating func confirm(_ deliveryTag: UInt64, multiple: Bool, acknowledged: Bool) {
        let tags = multiple ? unconfirmed.keys.filter { $0 <= deliveryTag } : [deliveryTag]
        for tag in tags {
            guard let publish = unconfirmed.removeValue(forKey: tag) else { continue }
            let message = publish.message
            if tagByMessageID[message.messageID] == tag { tagByMessageID[message.messageID] = nil }
            if returnedTags.remove(tag) != nil {
                publish.waiter.settle(AMQPError.unroutable(exchange: message.exchange, routingKey: message.routingKey))
            } else if acknowledged {
                publish.waiter.settle(nil)
            } else {
                publish.waiter.settle(
                    AMQPError.nacked(
                        "the broker refused message \(message.messageID) for '\(message.exchange)' (routing key '\(message.routingKey)')"
                    ))
            }
        }
    }

    /// The channel (or the connection) was lost before these confirms came: each unconfirmed message goes back to
    /// the head of the queue in its order, to be sent again (at least once), unless it has used up its attempts.
    mutating func channelLost(reason: String) {
        for tag in unconfirmed.keys.sorted(by: >) {
            guard let publish = unconfirmed[tag] else { continue }
            if publish.attempts >= maximumAttempts {
                publish.waiter.settle(
                    AMQPError.connectionLost(
                        "message \(publish.message.messageID) was sent \(publish.attempts) times and each time the channel was lost before its confirm; last: \(reason)"
                    ))
            } else if !publish.waiter.isSettled {
                outbound.prepend(publish)
            }
        }
        unconfirmed = [:]
        tagByMessageID = [:]
        returnedTags = []
        nextDeliveryTag = 1
    }

    /// Fails every message whose caller's deadline has passed: waiting ones are dropped, sent ones keep their tag
    /// so later confirms still add up, but their caller is told now.
    mutating func expire(now: ContinuousClock.Instant) {
        while let first = outbound.first, first.deadline <= now {
            outbound.removeFirst()
            first.waiter.settle(Self.timeout(first))
        }
        for publish in unconfirmed.values where publish.deadline <= now {
            publish.waiter.settle(Self.timeout(publish))
        }
    }

    /// Takes every message out, for a connection that closes for good.
    mutating func removeAll() -> [PendingPublish] {
        defer {
            outbound = []
            unconfirmed = [:]
            tagByMessageID = [:]
            returnedTags = []
        }
        return Array(outbound) + unconfirmed.keys.sorted().compactMap { unconfirmed[$0] }
    }

    private static func timeout(_ publish: PendingPublish) -> AMQPError {
        .timedOut(
            "the broker did not confirm message \(publish.message.messageID) to '\(publish.message.exchange)' in time; is RabbitMQ reachable?"
        )
    }
}

/// A message waiting to be sent or confirmed.
struct PendingPublish {
    let message: OutgoingMessage
    let waiter: PublishWaiter
    /// When its caller stops waiting.
    let deadline: ContinuousClock.Instant
    /// How often it went out on a channel.
    var attempts = 0
}

/// Tells the caller that published one message how it went, once: from the owning thread (its confirm) or from
/// the caller's task (cancellation), so its state sits behind a lock.
final class PublishWaiter: Sendable {
    private let completion: Mutex<(@Sendable ((any Error)?) -> Void)?>

    init(completion: @escaping @Sendable ((any Error)?) -> Void) {
        self.completion = Mutex(completion)
    }

    /// Whether the caller has its answer already (settled, or it gave up).
    var isSettled: Bool { completion.withLock { $0 == nil } }

    /// Settles the message: `nil` when the broker took it, else why not (also: the caller was cancelled, its deadline
    /// passed). Only the first settlement counts.
    func settle(_ error: (any Error)?) {
        let completion = completion.withLock { completion in
            defer { completion = nil }
            return completion
        }
        completion?(error)
    }
}
