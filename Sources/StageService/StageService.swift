import ArgumentParser
import Contracts
import Deliverables
import Foundation
import ServiceKit
import ServiceLifecycle

/// Projects moving through their workflow's stages.
@main
struct StageServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "StageService", abstract: "Projects moving through their workflow's stages.")

    @OptionGroup var options: ServiceOptions
    @OptionGroup var stage: StageOptions

    func run() async throws {
        let missing = ExternalTool.missing()
        guard missing.isEmpty else {
            throw ConfigurationError(
                "the built-in workflows' deliverables need programs that are not installed: \(missing.joined(separator: ", ")); "
                    + "scripts/setup.sh installs them")
        }
        var configuration = try options.resolve(service: "StageService", defaultPort: 8082)
        let shards = configuration.stageShards
        let shard = try stage.shard(of: shards)
        // Each shard's database and artifacts in a folder of its own, so shards can share a data folder.
        if shards.count > 1 {
            configuration.dataDirectory = configuration.dataDirectory.appendingPathComponent("stage-shard-\(shard)")
        }
        let host = ServiceHost(configuration: configuration)
        let database = try host.openDatabase(migrations: StageSchema.migrate)
        var settings = EngineSettings()
        settings.artifactsDirectory = host.configuration.dataDirectory.appendingPathComponent("artifacts")
        let service = StageService.build(
            database: database, bus: host.bus, templates: BusTemplateSource(bus: host.bus), settings: settings,
            shards: shards, shard: shard,
            actions: .standard(httpPost: try stage.httpPost(), cliLoop: try stage.cliLoop()), publicURL: try stage.publicURL(),
            logger: host.logger)
        try await host.run(
            topology: service.topology,
            services: [
                service.outbox,
                host.consumer("engine") { await cancelWhenGracefulShutdown { await service.runEngine() } },
                host.consumer("stage-commands") { try await service.serveCommands() },
                host.consumer("stage-queries") { try await service.serveQueries() },
                host.consumer("generation-results") { try await service.consumeResults() },
                host.consumer("approval-outcomes") { try await service.consumeApprovals() },
                host.consumer("generation-chunks") { try await service.consumeChunks() },
            ]
        )
    }
}
