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

    /// A comma-separated list of URLs, for a cluster: the nodes tried in turn (`amqp://u:p@node1/v,amqp://u:p@node2/v`).
    public static func list(_ text: String) throws(AMQPError) -> [AMQPURL] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !parts.isEmpty else { throw .invalidURL("no URL given; expected amqp://user:password@host:5672/vhost") }
        var urls: [AMQPURL] = []
        for part in parts { urls.append(try AMQPURL(part)) }
        return urls
    }

    /// The URL without its password, safe to log.
    public var description: String { "amqp://\(user)@\(host):\(port)/\(virtualHost == "/" ? "" : virtualHost)" }
}
