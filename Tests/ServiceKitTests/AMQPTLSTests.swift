import Foundation
import Testing

@testable import AMQPClient

/// `amqps://` against the local broker's TLS listener (scripts/test.sh gives it certificates from a test CA): the
/// broker's certificate and name are checked unless the URL says `verify=verify_none`.
@Suite("AMQP over TLS", .timeLimit(.minutes(2)))
struct AMQPTLSTests {
    /// The test CA's folder (scripts/test-ca.sh), as scripts/test.sh passes it.
    static let certificates =
        ProcessInfo.processInfo.environment["AIWF_TEST_TLS_DIR"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("data/tls").path

    static func url(host: String = "localhost", _ query: String) throws -> AMQPURL {
        let broker = TestBroker.url
        return try AMQPURL("amqps://\(broker.user):\(broker.password)@\(host):5671/?\(query)")
    }

    @Test func aBrokerWhoseCertificateTheTestCASignedIsUsedOverTLS() async throws {
        var options = AMQPConnectionOptions(url: try Self.url("cacertfile=\(Self.certificates)/ca.pem"), name: "test.tls")
        options.connectTimeout = .seconds(5)
        let connection = AMQPConnection(options: options, logger: TestBroker.logger)
        let queue = TestBroker.uniqueName("tls")
        try await connection.declare(Topology(queues: [QueueSpec(name: queue)]))
        try await connection.publish(OutgoingMessage(exchange: "", routingKey: queue, body: Data("sealed".utf8)))
        #expect(try await connection.messageCount(queue: queue) == 1)
        let (consumer, delivery) = try await connection.takeOne(from: queue)
        #expect(String(decoding: delivery.body, as: UTF8.self) == "sealed")
        connection.ack(delivery)
        await consumer.close()
        try await connection.delete(queue: queue)
        await connection.close()
    }

    @Test func aCertificateFromAnotherCAIsRefusedAndSaysWhatToCheck() throws {
        let url = try Self.url("cacertfile=\(Self.certificates)/other-ca.pem")
        let error = #expect(throws: AMQPError.self) { _ = try AMQPWire.connect(to: url, name: "test.tls-untrusted", heartbeatSeconds: 10) }
        #expect(error?.message.contains("TLS handshake") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("other-ca.pem") == true, "\(error?.message ?? "")")
    }

    /// 127.0.0.2 reaches the same broker, but its certificate names only localhost and 127.0.0.1.
    @Test func aCertificateForAnotherNameIsRefusedUnlessVerificationIsTurnedOff() throws {
        let checked = try Self.url(host: "127.0.0.2", "cacertfile=\(Self.certificates)/ca.pem")
        #expect(throws: AMQPError.self) { _ = try AMQPWire.connect(to: checked, name: "test.tls-name", heartbeatSeconds: 10) }
        let unchecked = try Self.url(host: "127.0.0.2", "cacertfile=\(Self.certificates)/ca.pem&verify=verify_none")
        _ = try AMQPWire.connect(to: unchecked, name: "test.tls-unchecked", heartbeatSeconds: 10)
    }

    @Test func amqpsURLsTakeTheirSettingsAndRefuseWrongOnes() throws {
        let url = try AMQPURL("amqps://u:p@broker.example/prod")
        #expect(url.port == 5671 && url.tls?.verify == true && url.tls?.caCertificateFile == AMQPTLS.systemCertificates)
        #expect(url.description == "amqps://u@broker.example:5671/prod")
        #expect(try AMQPURL("amqp://u:p@broker.example/").tls == nil)
        for (text, says) in [
            ("amqps://u:p@h/?verify=maybe", "verify_peer or verify_none"), ("amqps://u:p@h/?cacertfile=/no/such.pem", "cannot read"),
            ("amqps://u:p@h/?colour=blue", "not a setting"), ("amqp://u:p@h/?verify=verify_none", "are for amqps://"),
            ("amqps://u:p@h/?certfile=/etc/hostname", "both certfile and keyfile"),
        ] {
            let error = #expect(throws: AMQPError.self) { _ = try AMQPURL(text) }
            #expect(error?.message.contains(says) == true, "\(text): \(error?.message ?? "")")
        }
    }
}
