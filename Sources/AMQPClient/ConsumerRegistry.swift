/// The consumers of one connection and the channels they use, kept across reconnects.
///
/// Pure bookkeeping, owned by the connection's thread: the driver makes the broker calls and tells the registry
/// what happened, so what is subscribed where, which channel numbers are free and which tag belongs to whom can be
/// tested without a broker.
struct ConsumerRegistry {
    /// A consumer as the connection tracks it.
    struct Entry {
        let registration: ConsumerRegistration
        /// The caller waiting for the first subscription to be confirmed, if any.
        var subscribed: CheckedContinuation<Void, any Error>?
        var channel: UInt16 = 0
        /// The broker's tag while subscribed on the current connection.
        var consumerTag: String?
    }

    static let publishChannel: UInt16 = 1
    static let adminChannel: UInt16 = 2
    static let firstConsumerChannel: UInt16 = 3

    private var entries: [Int: Entry] = [:]
    private var idByTag: [String: Int] = [:]
    private var nextChannel = firstConsumerChannel
    private var freeChannels: [UInt16] = []
    /// Channels of cancelled consumers that stay open for their unacknowledged deliveries until closed, with the
    /// connection generation they belong to.
    private var lingering: [Int: (channel: UInt16, generation: UInt64)] = [:]

    /// Every consumer, in the order they were added (their ids grow).
    var ids: [Int] { entries.keys.sorted() }

    /// The consumers that share the publishing channel (direct reply-to).
    var onPublishChannel: [Int] { ids.filter { entries[$0]?.registration.onPublishChannel == true } }

    func entry(_ id: Int) -> Entry? { entries[id] }

    /// Whom a delivery with `tag` is for.
    func registration(forTag tag: String) -> ConsumerRegistration? {
        idByTag[tag].flatMap { entries[$0]?.registration }
    }

    mutating func add(_ registration: ConsumerRegistration, subscribed: CheckedContinuation<Void, any Error>?) {
        entries[registration.id] = Entry(registration: registration, subscribed: subscribed)
    }

    /// A channel number nobody uses now: one given back, else a new one.
    mutating func allocateChannel() -> UInt16 {
        if let free = freeChannels.popLast() { return free }
        defer { nextChannel += 1 }
        return nextChannel
    }

    /// A channel closed (or never opened) that may be used again.
    mutating func release(_ channel: UInt16) {
        guard channel >= Self.firstConsumerChannel, !freeChannels.contains(channel) else { return }
        freeChannels.append(channel)
    }

    /// A new connection: channel numbers start again, and every consumer is to be subscribed afresh.
    mutating func connectionOpened() {
        nextChannel = Self.firstConsumerChannel
        freeChannels = []
        lingering = [:]
        forgetTags()
    }

    /// The connection dropped: the tags died with it; the consumers stay, to be subscribed again.
    mutating func connectionLost() {
        forgetTags()
    }

    /// The broker confirmed `id` on `channel` under `tag`; returns the caller waiting for that, once.
    mutating func subscribed(_ id: Int, channel: UInt16, tag: String) -> CheckedContinuation<Void, any Error>? {
        guard var entry = entries[id] else { return nil }
        let waiting = entry.subscribed
        entry.channel = channel
        entry.consumerTag = tag
        entry.subscribed = nil
        entries[id] = entry
        idByTag[tag] = id
        return waiting
    }

    /// The broker refused `id` (it closed the channel): the consumer is gone and its own channel may be reused.
    mutating func refused(_ id: Int, channel: UInt16) -> Entry? {
        release(channel)
        return entries.removeValue(forKey: id)
    }

    /// The publishing channel was closed under these consumers: they are to be subscribed again on the new one.
    mutating func publishChannelReopened() -> [Int] {
        let ids = onPublishChannel
        for id in ids { forgetTag(of: id) }
        return ids
    }

    /// The broker ended the consumer of `tag` by itself; returns whose it was. The tag is forgotten and its channel is
    /// neither closed nor given back: deliveries not yet settled are acknowledged on it later, and acknowledging on a
    /// closed channel would close the connection. A new subscription gets a channel of its own.
    mutating func cancelledByBroker(tag: String) -> Int? {
        guard let id = idByTag.removeValue(forKey: tag) else { return nil }
        entries[id]?.consumerTag = nil
        return id
    }

    /// Cancels `id`; its own channel stays open for deliveries not yet settled until ``closeLingeringChannel``.
    mutating func cancel(_ id: Int, generation: UInt64) -> Entry? {
        guard let entry = entries.removeValue(forKey: id) else { return nil }
        if let tag = entry.consumerTag { idByTag[tag] = nil }
        if entry.channel >= Self.firstConsumerChannel { lingering[id] = (entry.channel, generation) }
        return entry
    }

    /// The channel a cancelled consumer left open, if it still belongs to the connection of `generation`.
    mutating func closeLingeringChannel(of id: Int, generation: UInt64) -> UInt16? {
        guard let (channel, channelGeneration) = lingering.removeValue(forKey: id), channelGeneration == generation else { return nil }
        return channel
    }

    /// Ends every consumer (the connection is gone for good).
    mutating func removeAll() -> [Entry] {
        defer {
            entries = [:]
            idByTag = [:]
            lingering = [:]
        }
        return ids.compactMap { entries[$0] }
    }

    private mutating func forgetTags() {
        idByTag = [:]
        for id in entries.keys { entries[id]?.consumerTag = nil }
    }

    private mutating func forgetTag(of id: Int) {
        if let tag = entries[id]?.consumerTag { idByTag[tag] = nil }
        entries[id]?.consumerTag = nil
    }
}
