import AMQPClient
import Foundation
import Logging

/// The broker the tests use: `AIWF_TEST_AMQP_URL`, else the local default.
enum TestBroker {
    static let url: AMQPURL = {
        let text = ProcessInfo.processInfo.environment["AIWF_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/"
        return try! AMQPURL(text)
    }()

    static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["AIWF_TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        return logger
    }()

    /// A connection named after the test, so a failing test's connections are easy to find in the broker.
    static func connection(_ name: String, heartbeatSeconds: Int = 10) -> AMQPConnection {
        var options = AMQPConnectionOptions(url: url, name: name)
        options.heartbeatSeconds = heartbeatSeconds
        return AMQPConnection(options: options, logger: logger)
    }

    /// A queue name no other test uses.
    static func uniqueName(_ prefix: String) -> String {
        "test.\(prefix).\(UUID().uuidString.prefix(8).lowercased())"
    }
}
