/// What AMQP 0-9-1 allows in names, and the names RabbitMQ gives a meaning.
public enum AMQPNames {
    /// The longest short string: exchange and queue names, routing keys, message properties.
    public static let maximumLength = 255
    /// The pseudo-queue RabbitMQ routes direct replies through.
    public static let directReplyTo = "amq.rabbitmq.reply-to"
    /// The message header a consistent-hash exchange of this project hashes (``OutgoingMessage/shardKey``).
    public static let shardHeader = "aiwf-shard"
}
