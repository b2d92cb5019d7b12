import Foundation

/// Where and as whom to connect: parsed from `amqp://user:password@host:port/vhost`, or `amqps://…` for TLS.
public struct AMQPURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var virtualHost: String
    /// TLS settings of an `amqps://` URL; nil for plain `amqp://`.
    public var tls: AMQPTLS?

    /// Parses an AMQP URL; an empty path means the default virtual host `/`. An `amqps://` URL takes RabbitMQ's
    /// URI query parameters: `cacertfile` (the CA bundle that signed the broker's certificate; the system's by
    /// default), `certfile` and `keyfile` (a client certificate), and `verify=verify_none` to skip checking the
    /// broker's certificate and name (checked by default).
    public init(_ text: String) throws(AMQPError) {
        guard let components = URLComponents(string: text), ["amqp", "amqps"].contains(components.scheme ?? "") else {
            throw .invalidURL("'\(text)' is not an amqp:// or amqps:// URL; expected amqp://user:password@host:5672/vhost")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .invalidURL("'\(text)' has no host; expected amqp://user:password@host:5672/vhost")
        }
        self.host = host
        let secure = components.scheme == "amqps"
        self.port = components.port ?? (secure ? 5671 : 5672)
        if secure {
            self.tls = try AMQPTLS(query: components.queryItems ?? [], url: text)
        } else if !(components.queryItems ?? []).isEmpty {
            throw .invalidURL("'\(text)': query parameters (cacertfile, verify, …) are for amqps:// URLs")
        }
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
    public var description: String {
        "\(tls == nil ? "amqp" : "amqps")://\(user)@\(host):\(port)/\(virtualHost == "/" ? "" : virtualHost)"
    }
}

/// How an `amqps://` connection proves the broker is the one meant, and optionally itself.
public struct AMQPTLS: Sendable, Equatable {
    /// The CA certificates (PEM) the broker's certificate must chain to.
    public var caCertificateFile: String
    /// A client certificate and its key (PEM), for brokers that ask for one.
    public var certificateFile: String?
    public var keyFile: String?
    /// Check the broker's certificate and that it names the host connected to.
    public var verify: Bool

    /// Debian's bundle of the system's trusted CAs.
    public static let systemCertificates = "/etc/ssl/certs/ca-certificates.crt"

    init(query: [URLQueryItem], url: String) throws(AMQPError) {
        var values: [String: String] = [:]
        for item in query {
            guard ["cacertfile", "certfile", "keyfile", "verify"].contains(item.name), let value = item.value, !value.isEmpty else {
                throw .invalidURL(
                    "'\(url)': '\(item.name)' is not a setting of an amqps:// URL (cacertfile, certfile, keyfile, verify) or has no value")
            }
            values[item.name] = value
        }
        caCertificateFile = values["cacertfile"] ?? Self.systemCertificates
        certificateFile = values["certfile"]
        keyFile = values["keyfile"]
        guard (certificateFile == nil) == (keyFile == nil) else {
            throw .invalidURL("'\(url)': a client certificate needs both certfile and keyfile")
        }
        switch values["verify"] ?? "verify_peer" {
        case "verify_peer": verify = true
        case "verify_none": verify = false
        case let other: throw .invalidURL("'\(url)': verify is verify_peer or verify_none, not '\(other)'")
        }
        for file in [caCertificateFile, certificateFile, keyFile].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: file)
        {
            throw .invalidURL("'\(url)': cannot read \(file)")
        }
    }
}
