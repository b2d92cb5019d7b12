import ArgumentParser
import Foundation
import Testing

@testable import AMQPClient
@testable import Messaging
@testable import ServiceKit

@Suite struct ConfigurationTests {
    @Test func flagBeatsEnvironmentBeatsDefault() throws {
        let environment = ["AIWF_AMQP_URL": "amqp://u:p@broker:5673/v", "AIWF_HTTP_PORT": "9000", "AIWF_LOG_LEVEL": "debug"]
        let fromEnvironment = try ServiceOptions.parse([]).resolve(service: "S", defaultPort: 8081, environment: environment)
        #expect(fromEnvironment.amqpURL.host == "broker")
        #expect(fromEnvironment.amqpURL.port == 5673)
        #expect(fromEnvironment.amqpURL.virtualHost == "v")
        #expect(fromEnvironment.httpPort == 9000)
        #expect(fromEnvironment.logLevel == .debug)
        #expect(fromEnvironment.amqpAlternates.isEmpty)

        let cluster = try ServiceOptions.parse(["--amqp-url", "amqp://u:p@node1/v, amqp://u:p@node2:5673/v,amqp://u:p@node3/v"])
            .resolve(service: "S", defaultPort: 8081, environment: [:])
        #expect(cluster.amqpURL.host == "node1")
        #expect(cluster.amqpAlternates.map(\.host) == ["node2", "node3"] && cluster.amqpAlternates[0].port == 5673)

        let fromFlags = try ServiceOptions.parse(["--http-port", "9100", "--data-dir", "/tmp/x", "--log-level", "ERROR"])
            .resolve(service: "S", defaultPort: 8081, environment: environment)
        #expect(fromFlags.httpPort == 9100)
        #expect(fromFlags.dataDirectory.path == "/tmp/x")
        #expect(fromFlags.databasePath == "/tmp/x/S.sqlite")
        #expect(fromFlags.logLevel == .error)

        let defaults = try ServiceOptions.parse([]).resolve(service: "S", defaultPort: 8081, environment: [:])
        #expect(defaults.amqpURL == (try AMQPURL("amqp://guest:guest@127.0.0.1:5672/")))
        #expect(defaults.httpPort == 8081)
        #expect(defaults.logLevel == .info)
        #expect(defaults.dataDirectory.lastPathComponent == "data")
    }

    @Test func badValuesNameTheSettingAndWhatIsExpected() throws {
        let port = #expect(throws: ConfigurationError.self) {
            try ServiceOptions.parse([]).resolve(service: "S", defaultPort: 1, environment: ["AIWF_HTTP_PORT": "eighty"])
        }
        #expect(port?.description.contains("AIWF_HTTP_PORT") == true)
        let url = #expect(throws: ConfigurationError.self) {
            try ServiceOptions.parse(["--amqp-url", "http://x"]).resolve(service: "S", defaultPort: 1, environment: [:])
        }
        #expect(url?.description.contains("amqp://") == true)
        let level = #expect(throws: ConfigurationError.self) {
            try ServiceOptions.parse(["--log-level", "loud"]).resolve(service: "S", defaultPort: 1, environment: [:])
        }
        #expect(level?.description.contains("AIWF_LOG_LEVEL") == true)
    }

    @Test func urlDecodesCredentialsAndHidesThePassword() throws {
        let url = try AMQPURL("amqp://al%40ice:s3cr%2Ft@host/%2Fprod")
        #expect(url.user == "al@ice")
        #expect(url.password == "s3cr/t")
        #expect(url.virtualHost == "/prod")
        #expect(url.port == 5672)
        #expect(!url.description.contains("s3cr"))
    }
}

@Suite struct TopicPatternTests {
    @Test(arguments: [
        ("stage.*.v1", "stage.completed.v1", true),
        ("stage.*.v1", "stage.completed.v2", false),
        ("stage.#", "stage", true),
        ("stage.#", "stage.a.b.c", true),
        ("#.v1", "a.b.v1", true),
        ("#", "anything.at.all", true),
        ("*", "two.words", false),
        ("a.#.z", "a.z", true),
        ("a.#.z", "a.b.c.z", true),
        ("a.#.z", "a.b.c", false),
    ])
    func matchesLikeRabbitMQ(pattern: String, key: String, expected: Bool) {
        #expect(TopicPattern.matches(pattern, key) == expected)
    }
}

@Suite struct DeliveryPolicyTests {
    @Test func backoffGrowsExponentiallyUpToTheCap() {
        let policy = DeliveryPolicy(maxAttempts: 10, initialBackoff: .milliseconds(100), maximumBackoff: .seconds(1))
        let first = policy.backoff(after: 1)
        let third = policy.backoff(after: 3)
        let ninth = policy.backoff(after: 9)
        #expect(first >= .milliseconds(80) && first <= .milliseconds(120))
        #expect(third >= .milliseconds(320) && third <= .milliseconds(480))
        #expect(ninth >= .milliseconds(800) && ninth <= .milliseconds(1200))
    }
}
