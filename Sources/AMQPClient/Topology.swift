/// Exchanges, queues and bindings a service needs, declared from code at start and again after every reconnect.
public struct Topology: Sendable, Equatable {
    public var exchanges: [ExchangeSpec]
    public var queues: [QueueSpec]
    public var bindings: [BindingSpec]
    /// Bindings an earlier version declared that must go (a route that moved to another queue); removing one that
    /// is not there is no error.
    public var unbindings: [BindingSpec]
    /// Exchanges bound to exchanges: what the source routes with the key goes on through the destination.
    public var exchangeBindings: [ExchangeBindingSpec]

    public init(
        exchanges: [ExchangeSpec] = [], queues: [QueueSpec] = [], bindings: [BindingSpec] = [], unbindings: [BindingSpec] = [],
        exchangeBindings: [ExchangeBindingSpec] = []
    ) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
        self.unbindings = unbindings
        self.exchangeBindings = exchangeBindings
    }

    /// Both topologies together.
    public static func + (lhs: Topology, rhs: Topology) -> Topology {
        Topology(
            exchanges: lhs.exchanges + rhs.exchanges,
            queues: lhs.queues + rhs.queues,
            bindings: lhs.bindings + rhs.bindings,
            unbindings: lhs.unbindings + rhs.unbindings,
            exchangeBindings: lhs.exchangeBindings + rhs.exchangeBindings
        )
    }

    /// The three exchanges every service relies on (DESIGN.md §4).
    public static let standardExchanges = Topology(exchanges: [
        ExchangeSpec(name: Exchange.commands, kind: .topic),
        ExchangeSpec(name: Exchange.events, kind: .topic),
        ExchangeSpec(name: Exchange.deadLetters, kind: .direct),
    ])

    /// A work queue with its dead-letter queue `<name>.dead`, a quorum queue (dead letters are kept for an operator,
    /// whichever node of a cluster stops).
    ///
    /// - Parameters:
    ///   - kind: quorum by default; classic where exclusivity or endless requeues are the point.
    ///   - durable: `false` for a classic queue of requests whose askers wait and ask again (queries, streamed
    ///     pieces): it lives on one node of a cluster and goes with it, and its consumers declare it again on a
    ///     surviving node at once, where a durable classic queue would be unusable until its node returns.
    ///   - deliveryLimit: how often a quorum queue redelivers a message (after crashes) before dead-lettering it.
    ///   - bindings: `(exchange, routing key)` pairs that route to this queue.
    public static func workQueue(
        _ name: String,
        kind: QueueSpec.Kind = .quorum,
        durable: Bool = true,
        deliveryLimit: Int = 20,
        bindings: [(exchange: String, routingKey: String)] = []
    ) -> Topology {
        precondition(durable || kind == .classic, "a quorum queue is always durable")
        let deadName = name + ".dead"
        var queue = QueueSpec(name: name, kind: kind)
        queue.durable = durable
        queue.deadLetterExchange = Exchange.deadLetters
        queue.deadLetterRoutingKey = deadName
        if kind == .quorum { queue.deliveryLimit = deliveryLimit }
        return Topology(
            queues: [queue, QueueSpec(name: deadName, kind: .quorum)],
            bindings: [BindingSpec(queue: deadName, exchange: Exchange.deadLetters, routingKey: deadName)]
                + bindings.map { BindingSpec(queue: name, exchange: $0.exchange, routingKey: $0.routingKey) }
        )
    }
}

/// The names of the shared exchanges.
public enum Exchange {
    /// Topic (with keys that are whole type names, so it routes like a direct exchange); a command has exactly one
    /// consuming service. A topic exchange so the broker can check who may send which type (topic permissions).
    /// It replaced the direct `aiwf.commands`, whose old bindings stay for senders of an older version.
    public static let commands = "aiwf.requests"
    /// Topic; every handler has its own durable queue.
    public static let events = "aiwf.events"
    /// Direct; each queue's dead letters go to `<queue>.dead`.
    public static let deadLetters = "aiwf.dlx"
    /// The broker's default exchange, which routes by queue name.
    public static let `default` = ""
}

/// An exchange to declare.
public struct ExchangeSpec: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case direct, topic, fanout, headers
        /// RabbitMQ's consistent-hash exchange plugin: each message goes to one bound queue, chosen by a hash of its
        /// ``AMQPNames/shardHeader``; a binding's key is the queue's weight. Messages without the header all go to
        /// one queue (RabbitMQ 3.10 hashes the missing value like any other).
        case consistentHash = "x-consistent-hash"
    }

    public var name: String
    public var kind: Kind
    public var durable: Bool

    public init(name: String, kind: Kind, durable: Bool = true) {
        self.name = name
        self.kind = kind
        self.durable = durable
    }

    /// The `x-` arguments sent with `exchange.declare`.
    var arguments: [(String, TableValue)] {
        kind == .consistentHash ? [("hash-header", .string(AMQPNames.shardHeader))] : []
    }
}

/// An exchange bound to another: `source` routes what matches `routingKey` on to `destination`.
public struct ExchangeBindingSpec: Sendable, Equatable {
    public var destination: String
    public var source: String
    public var routingKey: String

    public init(destination: String, source: String, routingKey: String) {
        self.destination = destination
        self.source = source
        self.routingKey = routingKey
    }
}

/// A queue to declare, with the RabbitMQ arguments this project uses.
public struct QueueSpec: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case classic, quorum
    }

    public var name: String
    public var kind: Kind
    public var durable: Bool = true
    public var exclusive: Bool = false
    public var autoDelete: Bool = false
    public var deliveryLimit: Int?
    public var deadLetterExchange: String?
    public var deadLetterRoutingKey: String?
    public var maxLength: Int?
    /// `drop-head`, `reject-publish` or `reject-publish-dlx`.
    public var overflow: String?
    public var messageTTLMilliseconds: Int?
    public var singleActiveConsumer: Bool = false

    public init(name: String, kind: Kind = .classic) {
        self.name = name
        self.kind = kind
    }

    /// The `x-` arguments sent with `queue.declare`.
    var arguments: [(String, TableValue)] {
        var arguments: [(String, TableValue)] = []
        if kind == .quorum { arguments.append(("x-queue-type", .string("quorum"))) }
        if let deliveryLimit { arguments.append(("x-delivery-limit", .int(Int64(deliveryLimit)))) }
        if let deadLetterExchange { arguments.append(("x-dead-letter-exchange", .string(deadLetterExchange))) }
        if let deadLetterRoutingKey { arguments.append(("x-dead-letter-routing-key", .string(deadLetterRoutingKey))) }
        if let maxLength { arguments.append(("x-max-length", .int(Int64(maxLength)))) }
        if let overflow { arguments.append(("x-overflow", .string(overflow))) }
        if let messageTTLMilliseconds { arguments.append(("x-message-ttl", .int(Int64(messageTTLMilliseconds)))) }
        if singleActiveConsumer { arguments.append(("x-single-active-consumer", .bool(true))) }
        return arguments
    }
}

/// A value in an AMQP argument table.
enum TableValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case bool(Bool)
}

/// A binding of a queue to an exchange.
public struct BindingSpec: Sendable, Equatable {
    public var queue: String
    public var exchange: String
    public var routingKey: String

    public init(queue: String, exchange: String, routingKey: String) {
        self.queue = queue
        self.exchange = exchange
        self.routingKey = routingKey
    }
}
