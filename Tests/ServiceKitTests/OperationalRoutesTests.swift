import Foundation
import Hummingbird
import HummingbirdTesting
import Prometheus
import Testing

@testable import RuntimeSupport
@testable import ServiceKit

@Suite struct OperationalRoutesTests {
    @Test func readyReflectsEveryCheckAndMetricsAreExposed() async throws {
        let readiness = Readiness()
        let connected = Latch()
        readiness.add("amqp") { connected.isOpen }
        let registry = PrometheusCollectorRegistry()
        PrometheusMetricsFactory(registry: registry).makeCounter(label: "aiwf_test_total", dimensions: []).increment(by: 1)
        let router = Router()
        OperationalRoutes(serviceName: "TestService", readiness: readiness, registry: registry).add(to: router)
        let app = Application(router: router)
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains(#""amqp":false"#))
            }
            connected.open()
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#""status":"ready""#))
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("aiwf_test_total 1"))
            }
        }
    }
}
