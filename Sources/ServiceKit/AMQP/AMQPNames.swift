/// What AMQP 0-9-1 allows in names.
public enum AMQPNames {
    /// The longest short string: exchange and queue names, routing keys, message properties.
    public static let maximumLength = 255
}
