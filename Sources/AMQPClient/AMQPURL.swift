import Foundation

/// Where and as whom to connect: parsed from `amqp://user:password@host:port/vhost`.
public struct AMQPURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var virtualHost: String

    /// Parses an AMQP URL; an empty path means the default virtual host `/`.
    public init(_ text: String) throws(AMQPError) {
        guard let components = URLComponents(string: text), components.scheme == "amqp" else {
            throw .invalidURL("'\(text)' is not an amqp:// URL; expected amqp://user:password@host:5672/vhost")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .invalidURL("'\(text)' has no host; expected amqp://user:password@host:5672/vhost")
        }
        self.host = host
        self.port = components.port ?? 5672
        self.user = components.user.flatMap { $0.removingPercentEncoding } ?? "guest"
        self.password = components.password.flatMap { $0.removingPercentEncoding } ?? "guest"
        let path = components.percentEncodedPath
        if path.isEmpty || path == "/" {
            self.virtualHost = "/"
        } else {
            self.virtualHost = String(path.dropFirst()).removingPercentEncoding ?? String(path.dropFirst())
        }
    }

    /// The URL without its password, safe to log.
    public var description: String { "amqp://\(user)@\(host):\(port)/\(virtualHost == "/" ? "" : virtualHost)" }
}
