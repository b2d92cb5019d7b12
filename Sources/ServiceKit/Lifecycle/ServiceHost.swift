import AMQPClient
import Foundation
import GRDB
import Hummingbird
import Logging
import Messaging
import Metrics
import Prometheus
import RuntimeSupport
import ServiceLifecycle
import ServiceStorage
import Synchronization

/// What every service process shares: configuration, logger, the bus, readiness and metrics, and the one
/// `ServiceGroup` that runs it all until SIGTERM or SIGINT.
public struct ServiceHost: Sendable {
    public let configuration: ServiceConfiguration
    public let logger: Logger
    public let bus: AMQPBus
    public let readiness: Readiness
    public let registry: PrometheusCollectorRegistry
    /// Opens once the service's topology is declared; consumers wait for it.
    public let topologyDeclared = Latch()

    /// Sets up logging and metrics for the process and opens the bus's connections in the background.
    public init(configuration: ServiceConfiguration) {
        self.configuration = configuration
        self.registry = ProcessBootstrap.once(configuration)
        var logger = Logger(label: configuration.serviceName)
        logger.logLevel = configuration.logLevel
        self.logger = logger
        self.bus = AMQPBus(
            url: configuration.amqpURL, alternates: configuration.amqpAlternates, serviceName: configuration.serviceName, logger: logger)
        self.readiness = Readiness()
        let bus = self.bus
        let topologyDeclared = self.topologyDeclared
        readiness.add("amqp") { bus.isConnected }
        readiness.add("topology") { topologyDeclared.isOpen }
    }

    /// A service that consumes with `body` once the topology is declared.
    public func consumer(_ name: String, _ body: @escaping @Sendable () async throws -> Void) -> any Service {
        BodyService(name: name) { [topologyDeclared] in
            // A stop that comes before the topology is declared (the broker is unreachable) ends the wait.
            await cancelWhenGracefulShutdown { await topologyDeclared.wait() }
            guard topologyDeclared.isOpen, !Task.isCancelled else { return }
            try await body()
        }
    }

    /// Declares `topology` (with the shared exchanges), then runs the HTTP port and `services` until a signal.
    ///
    /// Services are listed in dependency order and shut down in reverse: the HTTP port first, then consumers
    /// (no new deliveries, in-flight ones finish), then whatever came before them (an outbox relay flushes),
    /// and the bus's connections last.
    public func run(
        topology: Topology,
        services: [any Service],
        routes: @Sendable (Router<BasicRequestContext>) -> Void = { _ in }
    ) async throws {
        let router = Router()
        routes(router)
        try await run(topology: topology, services: services, router: router)
    }

    /// As above, serving `router` (with a request context of the service's own) with the operational routes added.
    public func run<Context: RequestContext>(
        topology: Topology, services: [any Service], router: Router<Context>
    ) async throws where Context.Source == ApplicationRequestContextSource {
        OperationalRoutes(serviceName: configuration.serviceName, readiness: readiness, registry: registry).add(to: router)
        let http = Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: configuration.serviceName),
            logger: logger
        )
        let declare = BodyService(name: "topology") { [bus, logger, topologyDeclared] in
            do {
                try await cancelWhenGracefulShutdown { try await bus.declare(Topology.standardExchanges + topology) }
            } catch is CancellationError {
                return
            }
            topologyDeclared.open()
            logger.info("topology declared; ready")
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: [.init(service: BusService(bus: bus)), .init(service: declare, successTerminationBehavior: .ignore)]
                + services.map { .init(service: $0) } + [.init(service: http)]
                + [.init(service: ShutdownWatchdog(timeout: configuration.shutdownTimeout, logger: logger))],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        // After the timeout the group cancels what still runs; the watchdog ends the process if even that hangs.
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        let group = ServiceGroup(configuration: groupConfiguration)
        logger.info(
            "starting",
            metadata: [
                "amqp_url": "\(configuration.amqpURL)", "http_port": "\(configuration.httpPort)",
                "data_dir": "\(configuration.dataDirectory.path)",
            ]
        )
        try await group.run()
        logger.info("stopped")
    }
}

/// Keeps the bus open while the process runs and closes its connections last.
struct BusService: Service {
    let bus: AMQPBus

    func run() async throws {
        try? await gracefulShutdown()
        await bus.close()
    }
}

/// Ends the process when a graceful stop takes too long, whatever is stuck: SIGTERM always ends it.
///
/// Listed last, so it hears of the shutdown first. The service group cancels what is still running after the
/// timeout; this is for whatever does not end on cancellation either (a wait on an unreachable broker, a loop).
struct ShutdownWatchdog: Service {
    let timeout: Duration
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        Self.arm(after: timeout + .seconds(3), logger: logger)
    }

    /// A thread of its own, formed outside any actor, so it fires even when every task is stuck.
    private nonisolated static func arm(after limit: Duration, logger: Logger) {
        let thread = Thread {
            Thread.sleep(forTimeInterval: limit.seconds)
            logger.critical("graceful stop took too long; exiting", metadata: ["limit_seconds": "\(limit.seconds)"])
            fflush(nil)  // every stream, the log lines on standard error among them
            _exit(1)
        }
        thread.name = "shutdown-watchdog"
        thread.start()
    }
}

/// A service made of one async body.
struct BodyService: Service, CustomStringConvertible {
    let name: String
    let body: @Sendable () async throws -> Void
    var description: String { name }

    func run() async throws {
        try await body()
    }
}

/// A parent may start the process with SIGTERM and SIGINT blocked (test runners, some supervisors do), and the mask
/// is inherited: the signals would stay pending for ever. Unblocked on this thread, they reach the process again.
private func unblockStopSignals() {
    var signals = sigset_t()
    sigemptyset(&signals)
    sigaddset(&signals, SIGTERM)
    sigaddset(&signals, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &signals, nil)
}

/// Logging and metrics can be bootstrapped once per process.
private enum ProcessBootstrap {
    private static let registry = Mutex<PrometheusCollectorRegistry?>(nil)

    static func once(_ configuration: ServiceConfiguration) -> PrometheusCollectorRegistry {
        registry.withLock { existing in
            if let existing { return existing }
            let registry = PrometheusCollectorRegistry()
            unblockStopSignals()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: configuration.logLevel) }
            existing = registry
            return registry
        }
    }
}

extension ServiceHost {
    /// Opens this service's SQLite database in the data folder, with the messaging tables and `migrations`.
    public func openDatabase(migrations: (inout DatabaseMigrator) -> Void = { _ in }) throws -> DatabasePool {
        let database = try ServiceDatabase.open(at: configuration.databasePath, migrations: migrations)
        logger.info("database open", metadata: ["path": "\(configuration.databasePath)"])
        return database
    }
}

extension ServiceHost {
    /// Runs a service that owns its database with an outbox relay and its durable work queue: the shape every
    /// service starts from before its handlers are added.
    public static func runWithOutbox(
        service: String,
        defaultPort: Int,
        queue: String,
        options: ServiceOptions,
        additionalServices: @Sendable (ServiceHost) -> [any Service] = { _ in [] }
    ) async throws {
        let host = ServiceHost(configuration: try options.resolve(service: service, defaultPort: defaultPort))
        let database = try host.openDatabase()
        let outbox = Outbox(database: database, bus: host.bus, logger: host.logger)
        try await host.run(topology: .workQueue(queue), services: [outbox] + additionalServices(host))
    }
}
