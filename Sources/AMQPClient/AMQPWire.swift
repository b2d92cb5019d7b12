import CRabbit
import Foundation
import RuntimeSupport

/// A delivery copied out of the library's buffers, safe to hand to any task.
public struct AMQPDelivery: Sendable {
    public let body: Data
    public let exchange: String
    public let routingKey: String
    public let redelivered: Bool
    public let messageID: String?
    public let correlationID: String?
    public let replyTo: String?
    public let type: String?
    let deliveryTag: UInt64
    let consumerTag: String
    let channel: UInt16
    /// Which incarnation of the connection delivered it; an ack for an older one is dropped.
    var generation: UInt64 = 0
}

/// What a non-blocking read of the connection produced.
enum InboundEvent {
    case nothing
    case delivery(AMQPDelivery)
    case confirm(deliveryTag: UInt64, multiple: Bool, acknowledged: Bool)
    case returned(messageID: String?)
    /// The broker closed one channel (the close is answered already); the connection stays usable.
    case channelClosed(channel: UInt16, reason: String)
    /// The broker ended a consumer by itself: its queue was deleted, or its node of a cluster went down. The channel
    /// stays open.
    case consumerCancelled(consumerTag: String)
}

/// One librabbitmq connection and every raw C call the runtime makes.
///
/// Not thread-safe by design: exactly one thread (the ``AMQPConnection``'s driver) ever touches an instance.
/// Any call that leaves the connection unusable records why in ``broken``; the driver then reconnects.
final class AMQPWire {
    private let state: amqp_connection_state_t
    /// Why the connection can no longer be used, or `nil` while it is healthy.
    private(set) var broken: String?

    private init(state: amqp_connection_state_t) {
        self.state = state
    }

    deinit {
        amqp_destroy_connection(state)
    }

    /// Opens a TCP connection (TLS for an `amqps://` URL), logs in and names the connection after `name`.
    static func connect(
        to url: AMQPURL, name: String, heartbeatSeconds: Int, timeout: Duration = .seconds(5)
    ) throws(AMQPError) -> AMQPWire {
        guard let state = amqp_new_connection() else {
            throw .connectionFailed("librabbitmq could not allocate a connection")
        }
        let socket: OpaquePointer
        do {
            socket = try makeSocket(state, tls: url.tls)
        } catch {
            amqp_destroy_connection(state)
            throw error
        }
        let timeoutMicroseconds = max(timeout.microseconds, 1_000)
        var connectTimeout = timeval(tv_sec: Int(timeoutMicroseconds / 1_000_000), tv_usec: Int(timeoutMicroseconds % 1_000_000))
        let status = amqp_socket_open_noblock(socket, url.host, Int32(url.port), &connectTimeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            amqp_destroy_connection(state)
            if let tls = url.tls, status <= AMQP_STATUS_SSL_ERROR.rawValue, status > AMQP_STATUS_SSL_ERROR.rawValue - 0x10 {
                throw .connectionFailed(
                    "the TLS handshake with RabbitMQ at \(url.host):\(url.port) failed (\(errorText(status))): "
                        + (tls.verify
                            ? "is its certificate signed by a CA in \(tls.caCertificateFile) (cacertfile=…) and made out to \(url.host)?"
                            : "does it listen for TLS on that port?"))
            }
            throw .connectionFailed(
                "cannot reach RabbitMQ at \(url.host):\(url.port) (\(errorText(status))); is rabbitmq-server running? Set AIWF_AMQP_URL if it listens elsewhere"
            )
        }
        var rpcTimeout = timeval(tv_sec: 30, tv_usec: 0)
        amqp_set_rpc_timeout(state, &rpcTimeout)
        let reply = crabbit_login_plain(
            state, url.virtualHost, 0, 131_072, Int32(heartbeatSeconds), url.user, url.password, name
        )
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            // The reply's text lives in the connection's memory: read it before the connection is destroyed.
            let reason = describe(reply)
            amqp_destroy_connection(state)
            throw .connectionFailed(
                "RabbitMQ at \(url.host):\(url.port) refused the login of '\(url.user)' to virtual host '\(url.virtualHost)' (\(reason))"
            )
        }
        return AMQPWire(state: state)
    }

    /// A plain TCP socket, or a TLS one that checks the broker's certificate and name unless told not to.
    private static func makeSocket(_ state: amqp_connection_state_t, tls: AMQPTLS?) throws(AMQPError) -> OpaquePointer {
        guard let tls else {
            guard let socket = amqp_tcp_socket_new(state) else { throw .connectionFailed("librabbitmq could not allocate a TCP socket") }
            return socket
        }
        guard let socket = amqp_ssl_socket_new(state) else { throw .connectionFailed("librabbitmq could not allocate a TLS socket") }
        guard amqp_ssl_socket_set_cacert(socket, tls.caCertificateFile) == AMQP_STATUS_OK.rawValue else {
            throw .connectionFailed("cannot load the CA certificates in \(tls.caCertificateFile) (cacertfile=…): is it PEM?")
        }
        if let certificate = tls.certificateFile, let key = tls.keyFile {
            guard amqp_ssl_socket_set_key(socket, certificate, key) == AMQP_STATUS_OK.rawValue else {
                throw .connectionFailed("cannot load the client certificate \(certificate) with its key \(key): are they a PEM pair?")
            }
        }
        amqp_ssl_socket_set_verify_peer(socket, tls.verify ? 1 : 0)
        amqp_ssl_socket_set_verify_hostname(socket, tls.verify ? 1 : 0)
        return socket
    }

    /// The socket to `poll` on.
    var socketDescriptor: Int32 { amqp_get_sockfd(state) }

    /// Whether frames are already read or buffered, so a `poll` would wait for nothing.
    var hasBufferedInput: Bool { amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0 }

    // MARK: Channels and declarations

    func openChannel(_ channel: UInt16) throws(AMQPError) {
        amqp_channel_open(state, channel)
        try check("open channel \(channel)", channel: channel)
    }

    /// Puts a channel in transaction mode: its publishes take effect together at ``commit(on:)``, or not at all.
    func selectTransactions(on channel: UInt16) throws(AMQPError) {
        amqp_tx_select(state, channel)
        try check("start a transaction", channel: channel)
    }

    func commit(on channel: UInt16) throws(AMQPError) {
        amqp_tx_commit(state, channel)
        try check("commit a transaction", channel: channel)
    }

    func enableConfirms(on channel: UInt16) throws(AMQPError) {
        amqp_confirm_select(state, channel)
        try check("enable publisher confirms", channel: channel)
    }

    func declare(_ exchange: ExchangeSpec, on channel: UInt16) throws(AMQPError) {
        withBytes([exchange.name, exchange.kind.rawValue]) { bytes in
            withTable(exchange.arguments) { arguments in
                _ = amqp_exchange_declare(state, channel, bytes[0], bytes[1], 0, exchange.durable ? 1 : 0, 0, 0, arguments)
            }
        }
        try check("declare exchange '\(exchange.name)'", channel: channel)
    }

    func declare(_ queue: QueueSpec, on channel: UInt16) throws(AMQPError) {
        withBytes([queue.name]) { bytes in
            withTable(queue.arguments) { arguments in
                _ = amqp_queue_declare(
                    state, channel, bytes[0], 0, queue.durable ? 1 : 0, queue.exclusive ? 1 : 0,
                    queue.autoDelete ? 1 : 0, arguments
                )
            }
        }
        try check("declare queue '\(queue.name)'", channel: channel)
    }

    func bind(_ binding: BindingSpec, on channel: UInt16) throws(AMQPError) {
        withBytes([binding.queue, binding.exchange, binding.routingKey]) { bytes in
            _ = amqp_queue_bind(state, channel, bytes[0], bytes[1], bytes[2], amqp_table_t())
        }
        try check("bind queue '\(binding.queue)' to '\(binding.exchange)' with '\(binding.routingKey)'", channel: channel)
    }

    func bind(_ binding: ExchangeBindingSpec, on channel: UInt16) throws(AMQPError) {
        withBytes([binding.destination, binding.source, binding.routingKey]) { bytes in
            _ = amqp_exchange_bind(state, channel, bytes[0], bytes[1], bytes[2], amqp_table_t())
        }
        try check(
            "bind exchange '\(binding.destination)' to '\(binding.source)' with '\(binding.routingKey)'", channel: channel)
    }

    func unbind(_ binding: BindingSpec, on channel: UInt16) throws(AMQPError) {
        withBytes([binding.queue, binding.exchange, binding.routingKey]) { bytes in
            _ = amqp_queue_unbind(state, channel, bytes[0], bytes[1], bytes[2], amqp_table_t())
        }
        try check("unbind queue '\(binding.queue)' from '\(binding.exchange)' with '\(binding.routingKey)'", channel: channel)
    }

    /// Whether an exchange exists: a passive declare, which the broker answers by closing the channel with 404 when
    /// it does not.
    func exchangeExists(_ exchange: String, on channel: UInt16) throws(AMQPError) -> Bool {
        withBytes([exchange, "direct"]) { bytes in
            _ = amqp_exchange_declare(state, channel, bytes[0], bytes[1], 1, 0, 0, 0, amqp_table_t())
        }
        do {
            try check("look up exchange '\(exchange)'", channel: channel)
            return true
        } catch  where error.code == .channelClosed && error.message.contains("404") {
            throw AMQPError.unknownExchange(exchange)
        }
    }

    /// Removes every ready message from a queue and returns how many there were.
    func purge(_ queue: String, on channel: UInt16) throws(AMQPError) -> Int {
        let count = withBytes([queue]) { bytes in amqp_queue_purge(state, channel, bytes[0])?.pointee.message_count }
        try check("purge queue '\(queue)'", channel: channel)
        return Int(count ?? 0)
    }

    func deleteQueue(_ queue: String, on channel: UInt16) throws(AMQPError) {
        withBytes([queue]) { bytes in _ = amqp_queue_delete(state, channel, bytes[0], 0, 0) }
        try check("delete queue '\(queue)'", channel: channel)
    }

    /// Counts the ready messages of a queue without changing it.
    func messageCount(_ queue: String, on channel: UInt16) throws(AMQPError) -> Int {
        let count = withBytes([queue]) { bytes in
            amqp_queue_declare(state, channel, bytes[0], 1, 0, 0, 0, amqp_table_t())?.pointee.message_count
        }
        try check("inspect queue '\(queue)'", channel: channel)
        return Int(count ?? 0)
    }

    // MARK: Consuming

    /// Subscribes to a queue and returns the consumer tag the broker assigned.
    func consume(_ queue: String, on channel: UInt16, prefetch: UInt16, noAck: Bool, exclusive: Bool = false) throws(AMQPError) -> String {
        if !noAck {
            amqp_basic_qos(state, channel, 0, prefetch, 0)
            try check("set prefetch \(prefetch)", channel: channel)
        }
        // The tag lives in the connection's pool until the next buffer release: copy it at once.
        let tag = withBytes([queue]) { bytes in
            amqp_basic_consume(state, channel, bytes[0], amqp_bytes_t(), 0, noAck ? 1 : 0, exclusive ? 1 : 0, amqp_table_t())
                .map { Self.string($0.pointee.consumer_tag) }
        }
        try check("consume from queue '\(queue)'", channel: channel)
        return tag ?? ""
    }

    func cancel(consumerTag: String, on channel: UInt16) throws(AMQPError) {
        withBytes([consumerTag]) { bytes in _ = amqp_basic_cancel(state, channel, bytes[0]) }
        try check("cancel consumer", channel: channel)
    }

    /// Closes a channel; the broker requeues its unacknowledged deliveries.
    func closeChannel(_ channel: UInt16) throws(AMQPError) {
        _ = amqp_channel_close(state, channel, AMQP_REPLY_SUCCESS)
        try check("close channel \(channel)", channel: channel)
    }

    func ack(_ deliveryTag: UInt64, on channel: UInt16) {
        record(amqp_basic_ack(state, channel, deliveryTag, 0), "ack")
    }

    func reject(_ deliveryTag: UInt64, on channel: UInt16, requeue: Bool) {
        record(amqp_basic_nack(state, channel, deliveryTag, 0, requeue ? 1 : 0), "nack")
    }

    // MARK: Publishing

    /// Why the broker would refuse `message` (or the library could not even frame it), or `nil` when it can be sent.
    /// Checked before anything reaches the socket: a frame that fails half-way would break the whole connection.
    static func problem(with message: OutgoingMessage, maximumBodyBytes: Int) -> String? {
        let fields: [(String, String?)] = [
            ("exchange", message.exchange), ("routing key", message.routingKey), ("message id", message.messageID),
            ("reply-to", message.replyTo), ("correlation id", message.correlationID), ("type", message.type),
            ("shard key", message.shardKey),
        ]
        for case (let field, let value?) in fields where value.utf8.count > AMQPNames.maximumLength {
            return "the \(field) is \(value.utf8.count) bytes; AMQP allows at most \(AMQPNames.maximumLength)"
        }
        if let expiration = message.expirationMilliseconds, expiration < 0 {
            return "the expiration is negative (\(expiration) ms)"
        }
        if message.body.count > maximumBodyBytes {
            return "the body is \(message.body.count) bytes; the limit is \(maximumBodyBytes)"
        }
        return nil
    }

    /// Sends one message; check it with ``problem(with:maximumBodyBytes:)`` first.
    func publish(_ message: OutgoingMessage, on channel: UInt16) throws(AMQPError) {
        let strings = [
            message.exchange, message.routingKey, message.messageID, "application/json",
            message.replyTo ?? "", message.correlationID ?? "", message.type ?? "",
            message.expirationMilliseconds.map(String.init) ?? "",
        ]
        let status = withBytes(strings) { bytes in
            var properties = amqp_basic_properties_t()
            properties._flags =
                UInt32(AMQP_BASIC_MESSAGE_ID_FLAG) | UInt32(AMQP_BASIC_CONTENT_TYPE_FLAG)
                | UInt32(AMQP_BASIC_DELIVERY_MODE_FLAG)
            properties.message_id = bytes[2]
            properties.content_type = bytes[3]
            properties.delivery_mode = message.persistent ? 2 : 1
            if message.replyTo != nil {
                properties._flags |= UInt32(AMQP_BASIC_REPLY_TO_FLAG)
                properties.reply_to = bytes[4]
            }
            if message.correlationID != nil {
                properties._flags |= UInt32(AMQP_BASIC_CORRELATION_ID_FLAG)
                properties.correlation_id = bytes[5]
            }
            if message.type != nil {
                properties._flags |= UInt32(AMQP_BASIC_TYPE_FLAG)
                properties.type = bytes[6]
            }
            if message.expirationMilliseconds != nil {
                properties._flags |= UInt32(AMQP_BASIC_EXPIRATION_FLAG)
                properties.expiration = bytes[7]
            }
            let headers = message.shardKey.map { [(AMQPNames.shardHeader, TableValue.string($0))] } ?? []
            return withTable(headers) { table in
                if !headers.isEmpty {
                    properties._flags |= UInt32(AMQP_BASIC_HEADERS_FLAG)
                    properties.headers = table
                }
                return message.body.withUnsafeBytes { body in
                    amqp_basic_publish(
                        state, channel, bytes[0], bytes[1], message.mandatory ? 1 : 0, 0, &properties,
                        amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress))
                    )
                }
            }
        }
        record(status, "publish")
        if let broken { throw .connectionLost(broken) }
    }

    // MARK: Reading

    /// Reads what has arrived without waiting; also sends a heartbeat when one is due.
    func next() -> InboundEvent {
        var envelope = amqp_envelope_t()
        var noWait = timeval(tv_sec: 0, tv_usec: 0)
        let reply = amqp_consume_message(state, &envelope, &noWait, 0)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            defer { amqp_destroy_envelope(&envelope) }
            let properties = envelope.message.properties
            return .delivery(
                AMQPDelivery(
                    body: Self.data(envelope.message.body),
                    exchange: Self.string(envelope.exchange),
                    routingKey: Self.string(envelope.routing_key),
                    redelivered: envelope.redelivered != 0,
                    messageID: Self.property(properties, AMQP_BASIC_MESSAGE_ID_FLAG, properties.message_id),
                    correlationID: Self.property(properties, AMQP_BASIC_CORRELATION_ID_FLAG, properties.correlation_id),
                    replyTo: Self.property(properties, AMQP_BASIC_REPLY_TO_FLAG, properties.reply_to),
                    type: Self.property(properties, AMQP_BASIC_TYPE_FLAG, properties.type),
                    deliveryTag: envelope.delivery_tag,
                    consumerTag: Self.string(envelope.consumer_tag),
                    channel: envelope.channel
                )
            )
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_TIMEOUT.rawValue:
            return .nothing
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue:
            return nextFrame()
        default:
            broken = broken ?? "reading from the broker failed (\(Self.describe(reply)))"
            return .nothing
        }
    }

    /// Handles a frame that is not a delivery: confirms, returns, and the broker closing things.
    private func nextFrame() -> InboundEvent {
        var frame = amqp_frame_t()
        var noWait = timeval(tv_sec: 0, tv_usec: 0)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &noWait)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return .nothing }
        guard status == AMQP_STATUS_OK.rawValue else {
            record(status, "read frame")
            return .nothing
        }
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return .nothing }
        let method = frame.payload.method
        switch method.id {
        case AMQP_BASIC_ACK_METHOD:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            return .confirm(deliveryTag: ack.delivery_tag, multiple: ack.multiple != 0, acknowledged: true)
        case AMQP_BASIC_NACK_METHOD:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            return .confirm(deliveryTag: nack.delivery_tag, multiple: nack.multiple != 0, acknowledged: false)
        case AMQP_BASIC_RETURN_METHOD:
            var message = amqp_message_t()
            let reply = amqp_read_message(state, frame.channel, &message, 0)
            guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
                broken = broken ?? "reading a returned message failed (\(Self.describe(reply)))"
                return .nothing
            }
            defer { amqp_destroy_message(&message) }
            let properties = message.properties
            return .returned(messageID: Self.property(properties, AMQP_BASIC_MESSAGE_ID_FLAG, properties.message_id))
        case AMQP_CHANNEL_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            var closeOK = amqp_channel_close_ok_t(dummy: 0)
            amqp_send_method(state, frame.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &closeOK)
            return .channelClosed(
                channel: frame.channel,
                reason: "the broker closed channel \(frame.channel): \(close.reply_code) \(Self.string(close.reply_text))")
        case AMQP_CONNECTION_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            var closeOK = amqp_connection_close_ok_t(dummy: 0)
            amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &closeOK)
            broken = broken ?? "the broker closed the connection: \(close.reply_code) \(Self.string(close.reply_text))"
        case AMQP_BASIC_CANCEL_METHOD:
            let cancel = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            return .consumerCancelled(consumerTag: Self.string(cancel.consumer_tag))
        default:
            break
        }
        return .nothing
    }

    /// Lets the library free its frame buffers once nothing refers to them.
    func releaseBuffers() {
        amqp_maybe_release_buffers(state)
    }

    /// Closes the connection politely; the broker requeues every unacknowledged delivery.
    func close() {
        guard broken == nil else { return }
        _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        broken = "closed"
    }

    /// Marks the connection unusable, for example after a channel that cannot be recovered.
    func markBroken(_ reason: String) {
        broken = broken ?? reason
    }

    // MARK: Checked helpers

    /// Turns the reply of the last synchronous call into a typed error; answers the broker's close if it closed.
    private func check(_ action: String, channel: UInt16) throws(AMQPError) {
        let reply = amqp_get_rpc_reply(state)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            var closeOK = amqp_channel_close_ok_t(dummy: 0)
            amqp_send_method(state, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &closeOK)
            let text = Self.string(close.reply_text)
            // 406 on a declaration: the name is taken with other arguments (a setting changed since it was made).
            let hint =
                close.reply_code == 406 && text.contains("inequivalent arg")
                ? "; it exists with other arguments (a setting changed since it was created): delete it (rabbitmqctl delete_queue) or restore the setting"
                : ""
            throw .channelClosed("\(action): the broker refused with \(close.reply_code) \(text)\(hint)")
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            var closeOK = amqp_connection_close_ok_t(dummy: 0)
            amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &closeOK)
            let reason = "\(action): the broker closed the connection with \(close.reply_code) \(Self.string(close.reply_text))"
            broken = broken ?? reason
            throw .connectionLost(reason)
        default:
            let reason = "\(action) failed (\(Self.describe(reply)))"
            broken = broken ?? reason
            throw .connectionLost(reason)
        }
    }

    /// Records a failed status of an asynchronous call; any such failure leaves the connection unusable.
    private func record(_ status: Int32, _ action: String) {
        guard status != AMQP_STATUS_OK.rawValue else { return }
        broken = broken ?? "\(action) failed (\(Self.errorText(status)))"
    }

    private static func errorText(_ status: Int32) -> String {
        String(cString: amqp_error_string2(status))
    }

    private static func describe(_ reply: amqp_rpc_reply_t) -> String {
        switch reply.reply_type {
        case AMQP_RESPONSE_LIBRARY_EXCEPTION: return errorText(reply.library_error)
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            return "\(close.reply_code) \(string(close.reply_text))"
        case AMQP_RESPONSE_SERVER_EXCEPTION: return "the broker answered with method \(reply.reply.id)"
        default: return "no reply"
        }
    }

    private static func string(_ bytes: amqp_bytes_t) -> String {
        guard let pointer = bytes.bytes, bytes.len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: bytes.len), as: UTF8.self)
    }

    private static func data(_ bytes: amqp_bytes_t) -> Data {
        guard let pointer = bytes.bytes, bytes.len > 0 else { return Data() }
        return Data(bytes: pointer, count: bytes.len)
    }

    private static func property(_ properties: amqp_basic_properties_t, _ flag: Int32, _ value: amqp_bytes_t) -> String? {
        properties._flags & UInt32(flag) != 0 ? string(value) : nil
    }

    /// Lays strings out in one buffer and passes them as `amqp_bytes_t`, valid only inside `body`.
    private func withBytes<Result>(_ strings: [String], _ body: ([amqp_bytes_t]) -> Result) -> Result {
        var storage: [UInt8] = []
        var ranges: [Range<Int>] = []
        for string in strings {
            let start = storage.count
            storage.append(contentsOf: string.utf8)
            ranges.append(start..<storage.count)
        }
        return storage.withUnsafeMutableBufferPointer { buffer in
            let bytes = ranges.map { range in
                amqp_bytes_t(len: range.count, bytes: buffer.baseAddress.map { UnsafeMutableRawPointer($0 + range.lowerBound) })
            }
            return body(bytes)
        }
    }

    /// Builds an argument table whose strings live only inside `body`.
    private func withTable<Result>(_ entries: [(String, TableValue)], _ body: (amqp_table_t) -> Result) -> Result {
        var strings: [UnsafeMutablePointer<CChar>] = []
        defer { strings.forEach { free($0) } }
        func copy(_ text: String) -> UnsafeMutablePointer<CChar> {
            let pointer = strdup(text)!
            strings.append(pointer)
            return pointer
        }
        var list = entries.map { key, value -> amqp_table_entry_t in
            switch value {
            case .string(let text): crabbit_entry_string(copy(key), copy(text))
            case .int(let number): crabbit_entry_int(copy(key), number)
            case .bool(let flag): crabbit_entry_bool(copy(key), flag ? 1 : 0)
            }
        }
        return list.withUnsafeMutableBufferPointer { buffer in
            body(amqp_table_t(num_entries: Int32(buffer.count), entries: buffer.baseAddress))
        }
    }
}
