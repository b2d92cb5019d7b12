import Testing

@testable import AMQPClient

/// The connection's consumer bookkeeping, without a broker: who is subscribed where, which channels are free, and
/// what survives a reconnect.
@Suite("Consumer registry")
struct ConsumerRegistryTests {
    static func registration(_ id: Int, queue: String = "q", onPublishChannel: Bool = false) -> ConsumerRegistration {
        ConsumerRegistration(
            id: id, queue: queue, prefetch: 1, noAck: false, onPublishChannel: onPublishChannel, deliver: { _ in }, finish: { _ in })
    }

    @Test func channelsAreNumberedFromTheFirstConsumerChannelAndReused() {
        var registry = ConsumerRegistry()
        let first = registry.allocateChannel()
        let second = registry.allocateChannel()
        #expect(first == ConsumerRegistry.firstConsumerChannel)
        #expect(second == first + 1)
        registry.release(first)
        registry.release(first)  // twice: still handed out once
        #expect(registry.allocateChannel() == first)
        #expect(registry.allocateChannel() == second + 1)
        registry.release(ConsumerRegistry.publishChannel)  // never handed to a consumer
        #expect(registry.allocateChannel() == second + 2)
    }

    @Test func deliveriesFindTheirConsumerByTagUntilTheConnectionDrops() {
        var registry = ConsumerRegistry()
        registry.add(Self.registration(1, queue: "a"), subscribed: nil)
        registry.add(Self.registration(2, queue: "b"), subscribed: nil)
        _ = registry.subscribed(1, channel: 3, tag: "tag-1")
        _ = registry.subscribed(2, channel: 4, tag: "tag-2")
        #expect(registry.registration(forTag: "tag-2")?.queue == "b")
        #expect(registry.registration(forTag: "other") == nil)

        registry.connectionLost()
        #expect(registry.registration(forTag: "tag-1") == nil, "a tag dies with its connection")
        #expect(registry.ids == [1, 2], "the consumers stay, to be subscribed again")
        #expect(registry.entry(1)?.consumerTag == nil)

        registry.connectionOpened()
        #expect(registry.allocateChannel() == ConsumerRegistry.firstConsumerChannel, "numbering starts again")
    }

    @Test func aRefusedConsumerIsGoneAndItsChannelFree() {
        var registry = ConsumerRegistry()
        registry.add(Self.registration(7), subscribed: nil)
        let channel = registry.allocateChannel()
        #expect(registry.refused(7, channel: channel)?.registration.id == 7)
        #expect(registry.ids.isEmpty)
        #expect(registry.allocateChannel() == channel)
    }

    @Test func aCancelledConsumersChannelIsClosedOnlyOnTheConnectionItBelongsTo() {
        var registry = ConsumerRegistry()
        registry.add(Self.registration(1), subscribed: nil)
        registry.add(Self.registration(2), subscribed: nil)
        _ = registry.subscribed(1, channel: 3, tag: "t1")
        _ = registry.subscribed(2, channel: 4, tag: "t2")

        #expect(registry.cancel(1, generation: 5)?.consumerTag == "t1")
        #expect(registry.registration(forTag: "t1") == nil)
        #expect(registry.cancel(1, generation: 5) == nil, "cancelled once")
        #expect(registry.closeLingeringChannel(of: 1, generation: 6) == nil, "the channel died with generation 5")

        _ = registry.cancel(2, generation: 6)
        #expect(registry.closeLingeringChannel(of: 2, generation: 6) == 4)
        #expect(registry.closeLingeringChannel(of: 2, generation: 6) == nil, "closed once")
    }

    @Test func consumersOnThePublishingChannelAreResubscribedWhenItReopens() {
        var registry = ConsumerRegistry()
        registry.add(Self.registration(1), subscribed: nil)
        registry.add(Self.registration(2, queue: "amq.rabbitmq.reply-to", onPublishChannel: true), subscribed: nil)
        _ = registry.subscribed(1, channel: 3, tag: "t1")
        _ = registry.subscribed(2, channel: ConsumerRegistry.publishChannel, tag: "t2")

        #expect(registry.publishChannelReopened() == [2])
        #expect(registry.registration(forTag: "t2") == nil)
        #expect(registry.registration(forTag: "t1")?.id == 1, "other channels are untouched")
    }

    @Test func everythingEndsWhenTheConnectionIsGoneForGood() {
        var registry = ConsumerRegistry()
        for id in [3, 1, 2] { registry.add(Self.registration(id), subscribed: nil) }
        _ = registry.subscribed(1, channel: 3, tag: "t1")
        #expect(registry.removeAll().map(\.registration.id) == [1, 2, 3])
        #expect(registry.ids.isEmpty)
        #expect(registry.registration(forTag: "t1") == nil)
    }
}
