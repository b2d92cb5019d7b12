import AMQPClient
import ArgumentParser
import Contracts
import Foundation
import Logging

/// The command-line options every service takes; each falls back to its `AIWF_*` variable, then to a default.
public struct ServiceOptions: ParsableArguments, Sendable {
    @Option(
        name: .customLong("amqp-url"),
        help:
            "RabbitMQ URL (amqps:// for TLS), or a comma-separated list of a cluster's nodes tried in turn (AIWF_AMQP_URL; default amqp://guest:guest@127.0.0.1:5672/)."
    )
    public var amqpURL: String?

    @Option(name: .customLong("data-dir"), help: "Folder for SQLite files and artifacts (AIWF_DATA_DIR; default ./data).")
    public var dataDirectory: String?

    @Option(name: .customLong("http-host"), help: "Address the HTTP port binds to (AIWF_HTTP_HOST; default 127.0.0.1).")
    public var httpHost: String?

    @Option(name: .customLong("http-port"), help: "HTTP port for /health, /ready and /metrics (AIWF_HTTP_PORT).")
    public var httpPort: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (AIWF_LOG_LEVEL; default info).")
    public var logLevel: String?

    @Option(
        name: .customLong("shutdown-timeout"),
        help: "Seconds a graceful stop may take before the process ends anyway (AIWF_SHUTDOWN_TIMEOUT; default 10).")
    public var shutdownTimeout: Double?

    @Option(
        name: .customLong("stage-shards"),
        help:
            "How many StageService shards the projects are split into; the same for every service (AIWF_STAGE_SHARDS; default 1)."
    )
    public var stageShards: Int?

    public init() {}

    /// A setting's value: the flag when given, else the environment variable when set and not empty.
    public static func pick(
        _ flag: String?, _ variable: String, in environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String? {
        flag ?? environment[variable].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A repeatable flag's values, else the environment variable's comma-separated ones (blank entries dropped).
    public static func pickList(
        _ flags: [String], _ variable: String, in environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> [String] {
        guard flags.isEmpty else { return flags }
        return (environment[variable] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// A secret: the trimmed contents of `file` when one is given (`what` names its flag in the error), else the
    /// environment variable.
    public static func secret(
        file: String?, variable: String, what: String, in environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> String? {
        guard let file else { return pick(nil, variable, in: environment) }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ConfigurationError("\(what): cannot read \(file)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Resolves flag > environment variable > default, and checks every value.
    public func resolve(
        service: String,
        defaultPort: Int,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ServiceConfiguration {
        func pick(_ flag: String?, _ variable: String) -> String? { Self.pick(flag, variable, in: environment) }
        let urlText = pick(amqpURL, "AIWF_AMQP_URL") ?? "amqp://guest:guest@127.0.0.1:5672/"
        let urls: [AMQPURL]
        do {
            urls = try AMQPURL.list(urlText)
        } catch {
            throw ConfigurationError("--amqp-url / AIWF_AMQP_URL: \(error.message)")
        }
        let portText = httpPort.map(String.init) ?? pick(nil, "AIWF_HTTP_PORT") ?? String(defaultPort)
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw ConfigurationError("--http-port / AIWF_HTTP_PORT: '\(portText)' is not a port number between 0 and 65535")
        }
        let levelText = pick(logLevel, "AIWF_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ConfigurationError(
                "--log-level / AIWF_LOG_LEVEL: '\(levelText)' is not one of trace, debug, info, notice, warning, error, critical"
            )
        }
        let timeoutText = shutdownTimeout.map { "\($0)" } ?? pick(nil, "AIWF_SHUTDOWN_TIMEOUT") ?? "10"
        guard let timeout = Double(timeoutText), timeout.isFinite, timeout > 0, timeout <= 3600 else {
            throw ConfigurationError(
                "--shutdown-timeout / AIWF_SHUTDOWN_TIMEOUT: '\(timeoutText)' is not a number of seconds between 0 and 3600")
        }
        let shardsText = stageShards.map(String.init) ?? pick(nil, "AIWF_STAGE_SHARDS") ?? "1"
        guard let shards = Int(shardsText), (1...64).contains(shards) else {
            throw ConfigurationError("--stage-shards / AIWF_STAGE_SHARDS: '\(shardsText)' is not a whole number from 1 to 64")
        }
        return ServiceConfiguration(
            serviceName: service,
            amqpURL: urls[0],
            amqpAlternates: Array(urls.dropFirst()),
            dataDirectory: URL(fileURLWithPath: pick(dataDirectory, "AIWF_DATA_DIR") ?? "./data").standardizedFileURL,
            httpHost: pick(httpHost, "AIWF_HTTP_HOST") ?? "127.0.0.1",
            httpPort: port,
            logLevel: level,
            shutdownTimeout: .milliseconds(Int64(timeout * 1000)),
            stageShards: StageShards(count: shards)
        )
    }
}

/// A service's resolved settings.
public struct ServiceConfiguration: Sendable {
    public var serviceName: String
    public var amqpURL: AMQPURL
    /// The other nodes of a cluster (`AIWF_AMQP_URL` is a comma-separated list): tried in turn when one is lost.
    public var amqpAlternates: [AMQPURL]
    public var dataDirectory: URL
    public var httpHost: String
    public var httpPort: Int
    public var logLevel: Logger.Level
    /// How long a graceful stop may take; then the process ends anyway.
    public var shutdownTimeout: Duration
    /// How StageService is split (`AIWF_STAGE_SHARDS`).
    public var stageShards: StageShards

    public init(
        serviceName: String,
        amqpURL: AMQPURL,
        amqpAlternates: [AMQPURL] = [],
        dataDirectory: URL,
        httpHost: String = "127.0.0.1",
        httpPort: Int,
        logLevel: Logger.Level = .info,
        shutdownTimeout: Duration = .seconds(10),
        stageShards: StageShards = StageShards(count: 1)
    ) {
        self.shutdownTimeout = shutdownTimeout
        self.stageShards = stageShards
        self.serviceName = serviceName
        self.amqpURL = amqpURL
        self.amqpAlternates = amqpAlternates
        self.dataDirectory = dataDirectory
        self.httpHost = httpHost
        self.httpPort = httpPort
        self.logLevel = logLevel
    }

    /// The path of this service's SQLite database in the data folder.
    public var databasePath: String {
        dataDirectory.appendingPathComponent("\(serviceName).sqlite").path
    }
}

/// A setting that cannot be used; the message names the flag and variable and what is expected.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
