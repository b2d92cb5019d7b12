import Foundation
import Hummingbird
import Prometheus

/// `/health`, `/ready` and `/metrics`, which every service serves on its HTTP port.
public struct OperationalRoutes<Context: RequestContext>: Sendable {
    let serviceName: String
    let readiness: Readiness
    let registry: PrometheusCollectorRegistry

    public init(serviceName: String, readiness: Readiness, registry: PrometheusCollectorRegistry) {
        self.serviceName = serviceName
        self.readiness = readiness
        self.registry = registry
    }

    /// Adds the three routes to `router`.
    public func add(to router: Router<Context>) {
        router.get("/health") { _, _ in
            HealthReply(service: serviceName, status: "ok", checks: [:])
        }
        router.get("/ready") { _, _ in
            let checks = readiness.checks()
            let ready = checks.values.allSatisfy { $0 }
            let body = try JSONEncoder().encode(
                HealthReply(service: serviceName, status: ready ? "ready" : "not-ready", checks: checks)
            )
            return Response(
                status: ready ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: body))
            )
        }
        router.get("/metrics") { _, _ in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
    }
}

/// The body of `/health` and `/ready`.
struct HealthReply: ResponseEncodable {
    var service: String
    var status: String
    var checks: [String: Bool]
}
