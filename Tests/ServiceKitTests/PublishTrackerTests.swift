import Foundation
import Synchronization
import Testing

@testable import AMQPClient
@testable import Messaging

/// The publish bookkeeping without a broker: order, window, confirms, lost channels, deadlines.
@Suite("Publish tracker")
struct PublishTrackerTests {
    /// What each caller was told, by message body.
    final class Outcomes: Sendable {
        private let results = Mutex<[String: String]>([:])
        func record(_ name: String, _ error: (any Error)?) {
            results.withLock { $0[name] = error.map { ($0 as? AMQPError)?.code.description ?? "\($0)" } ?? "ok" }
        }
        subscript(_ name: String) -> String? { results.withLock { $0[name] } }
    }

    private func pending(
        _ name: String, _ outcomes: Outcomes, mandatory: Bool = false, deadline: ContinuousClock.Instant = .now + .seconds(60)
    ) -> PendingPublish {
        PendingPublish(
            message: OutgoingMessage(exchange: "", routingKey: "q", body: Data(name.utf8), messageID: name, mandatory: mandatory),
            waiter: PublishWaiter { outcomes.record(name, $0) }, deadline: deadline)
    }

    private func body(_ publish: PendingPublish?) -> String? {
        publish.map { String(decoding: $0.message.body, as: UTF8.self) }
    }

    @Test func sendsInOrderWithinTheWindowAndAMultipleConfirmSettlesThePrefix() {
        let outcomes = Outcomes()
        var tracker = PublishTracker(window: 2)
        for name in ["a", "b", "c"] { tracker.enqueue(pending(name, outcomes)) }
        let first = tracker.next()
        #expect(body(first) == "a")
        #expect(tracker.sent(first!) == 1)
        let second = tracker.next()
        #expect(body(second) == "b")
        tracker.sent(second!)
        #expect(tracker.next() == nil, "the window of two is full")
        tracker.confirm(2, multiple: true, acknowledged: true)
        #expect(outcomes["a"] == "ok")
        #expect(outcomes["b"] == "ok")
        #expect(body(tracker.next()) == "c")
    }

    @Test func aReturnedMandatoryMessageFailsAsUnroutableOnItsConfirm() {
        let outcomes = Outcomes()
        var tracker = PublishTracker(window: 8)
        tracker.enqueue(pending("m", outcomes, mandatory: true))
        tracker.sent(tracker.next()!)
        tracker.returned(messageID: "m")
        #expect(outcomes["m"] == nil)
        tracker.confirm(1, multiple: false, acknowledged: true)
        #expect(outcomes["m"] == "unroutable")
    }

    @Test func aLostChannelSendsUnconfirmedMessagesAgainInOrderButOnlyUpToTheAttemptLimit() {
        let outcomes = Outcomes()
        var tracker = PublishTracker(window: 8, maximumAttempts: 3)
        tracker.enqueue(pending("x", outcomes))
        tracker.enqueue(pending("y", outcomes))
        for round in 1...3 {
            let x = tracker.next()
            let y = tracker.next()
            #expect(body(x) == "x", "round \(round)")
            #expect(body(y) == "y", "round \(round)")
            tracker.sent(x!)
            tracker.sent(y!)
            tracker.channelLost(reason: "the broker closed channel 1")
        }
        #expect(outcomes["x"] == "connection-lost")
        #expect(outcomes["y"] == "connection-lost")
        #expect(tracker.next() == nil)
        #expect(tracker.isIdle)
    }

    @Test func aMessagePastItsDeadlineFailsAndIsNeverSent() {
        let outcomes = Outcomes()
        var tracker = PublishTracker(window: 8)
        let now = ContinuousClock.now
        tracker.enqueue(pending("late", outcomes, deadline: now - .seconds(1)))
        tracker.enqueue(pending("early", outcomes, deadline: now + .seconds(60)))
        tracker.expire(now: now)
        #expect(outcomes["late"] == "timed-out")
        #expect(body(tracker.next()) == "early")
    }

    @Test func aCallerThatGaveUpIsSkipped() {
        let outcomes = Outcomes()
        var tracker = PublishTracker(window: 8)
        let abandoned = pending("gone", outcomes)
        tracker.enqueue(abandoned)
        tracker.enqueue(pending("kept", outcomes))
        abandoned.waiter.settle(CancellationError())
        #expect(body(tracker.next()) == "kept")
        #expect(outcomes["gone"]?.contains("CancellationError") == true)
    }
}

@Suite("Delivery limits")
struct DeliveryLimitTests {
    @Test func aBodyPastTheLimitIsDeadLetteredUnread() async {
        var policy = DeliveryPolicy()
        policy.maximumBodyBytes = 1_000
        let processor = DeliveryProcessor(queue: "q", policy: policy, logger: TestBroker.logger) { _ in
            Issue.record("the handler saw an oversized body")
        }
        let outcome = await processor.process(body: Data(repeating: 32, count: 1_001), routingKey: "k", redelivered: false, replyTo: nil)
        guard case .deadLetter(let reason) = outcome else {
            Issue.record("expected a dead letter, got \(outcome)")
            return
        }
        #expect(reason.contains("1001 bytes"))
    }
}
