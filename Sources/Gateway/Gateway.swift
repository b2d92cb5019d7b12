import ArgumentParser
import Contracts
import Foundation
import PostgresNIO
import ServiceKit
import ServiceLifecycle

/// The REST API, the portal, the admin pages and the docs.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Gateway", abstract: "The REST API, the portal, the admin pages and the docs.")

    @OptionGroup var options: ServiceOptions

    @Option(
        name: .customLong("admin-email"), help: "The first admin's e-mail address, used when there is no user yet (or AIWF_ADMIN_EMAIL).")
    var adminEmail: String?

    @Option(
        name: .customLong("request-timeout"),
        help: "Seconds a service has to answer before the caller gets a 503 (or AIWF_REQUEST_TIMEOUT).")
    var requestTimeout: Int?

    @Option(name: .customLong("key-rate"), help: "Requests a minute one API key may make (or AIWF_KEY_RATE_PER_MINUTE; default 600).")
    var keyRate: Int?

    @Option(name: .customLong("docs-dir"), help: "The folder of Markdown pages served at /docs (or AIWF_DOCS_DIR; default docs).")
    var docsDirectory: String?

    @Option(
        name: .customLong("database-url"),
        help:
            "A PostgreSQL database for users, keys and sessions, shared by several Gateway replicas: postgres://user:password@host/db (or AIWF_GATEWAY_DATABASE_URL; default: SQLite in the data folder)."
    )
    var databaseURL: String?

    func run() async throws {
        let host = ServiceHost(configuration: try options.resolve(service: "Gateway", defaultPort: 8080))
        let environment = ProcessInfo.processInfo.environment
        let store: any AccountStore
        var postgres: Task<Void, Never>?
        if let url = ServiceOptions.pick(databaseURL, "AIWF_GATEWAY_DATABASE_URL", in: environment) {
            let client = PostgresClient(configuration: try PostgresAccountStore.configuration(url: url), backgroundLogger: host.logger)
            postgres = Task { await client.run() }
            let shared = PostgresAccountStore(client: client, logger: host.logger)
            try await shared.migrate()
            store = shared
        } else {
            store = SQLiteAccountStore(database: try host.openDatabase(migrations: SQLiteAccountStore.migrate))
        }
        defer { postgres?.cancel() }
        let accounts = Accounts(store: store)
        let email = ServiceOptions.pick(adminEmail, "AIWF_ADMIN_EMAIL", in: environment)
        if let password = try await accounts.ensureFirstAdmin(
            email: email, password: environment["AIWF_ADMIN_PASSWORD"], logger: host.logger)
        {
            let line = """
                aiwf: the first admin is \(email ?? Accounts.defaultAdmin) with the password \(password) (shown this once).
                aiwf: make an API key: curl -u \(email ?? Accounts.defaultAdmin):\(password) -X POST http://localhost:\(host.configuration.httpPort)/api/v1/keys -H 'content-type: application/json' -d '{"name": "cli"}'

                """
            FileHandle.standardError.write(Data(line.utf8))
        }
        let timeout = requestTimeout ?? environment["AIWF_REQUEST_TIMEOUT"].flatMap(Int.init) ?? 10
        let rate = keyRate ?? environment["AIWF_KEY_RATE_PER_MINUTE"].flatMap(Int.init) ?? 600
        let docs = DocsLibrary(
            directory: URL(fileURLWithPath: ServiceOptions.pick(docsDirectory, "AIWF_DOCS_DIR", in: environment) ?? "docs"))
        let app = try GatewayApp(
            accounts: accounts, bus: host.bus, requestTimeout: .seconds(timeout), requestsPerMinute: rate, docs: docs,
            stageShards: host.configuration.stageShards)
        try await host.run(
            topology: app.live.topology,
            services: [
                host.consumer("live-events") { try await app.live.consume(host.bus) },
                host.consumer("key-usage") { await cancelWhenGracefulShutdown { await accounts.usage.run(store: accounts.store) } },
            ],
            router: app.router())
    }
}
