import ArgumentParser
import Contracts
import Foundation
import GRDB

/// `aiwf admin …`: the operator's commands. Dead letters go through the Gateway's API with an admin's key; a backup
/// reads the data folder on this machine.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Operate the system: dead letters, backups.", subcommands: [DeadLetters.self, ReplayDeadLetters.self, Backup.self])

    struct DeadLetters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dead-letters", abstract: "Messages waiting in each dead-letter queue.")
        @OptionGroup var connection: Connection

        func run() async throws {
            struct Counts: Decodable {
                var queues: [String: Int]
                var total: Int
            }
            let counts = try await connection.get("/api/v1/admin/dead-letters", as: Counts.self)
            for (queue, count) in counts.queues.sorted(by: { $0.key < $1.key }) {
                print("\(queue.padding(toLength: 40, withPad: " ", startingAt: 0)) \(count)")
            }
            print("total \(counts.total)")
        }
    }

    struct ReplayDeadLetters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay-dead-letters",
            abstract: "Move a dead-letter queue's messages back into the queue they died in, once what failed is fixed.")
        @OptionGroup var connection: Connection
        @Argument(help: "The dead-letter queue, e.g. stage.commands.dead (see `aiwf admin dead-letters`).") var queue: String
        @Option(help: "The most messages to move.") var limit: Int = 1_000

        func run() async throws {
            struct Replayed: Decodable {
                var into: String
                var moved: Int
            }
            let path = "/api/v1/admin/dead-letters/\(queue.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? queue)/replay"
            let replayed = try await connection.post(path + "?limit=\(limit)", as: Replayed.self)
            print("\(replayed.moved) message(s) moved back into \(replayed.into)")
        }
    }

    /// Online: SQLite's backup API copies each database page by page while the services keep writing.
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy every service's SQLite database in a data folder, consistently, while the services run.")
        @Option(help: "The services' data folder (AIWF_DATA_DIR; default ./data).") var dataDir: String?
        @Option(help: "Where the copies go; a folder named by the time is made in it.") var to: String

        func run() async throws {
            let data = URL(fileURLWithPath: dataDir ?? ProcessInfo.processInfo.environment["AIWF_DATA_DIR"] ?? "./data")
            let files = try Self.databases(in: data)
            guard !files.isEmpty else { throw CLIError("no *.sqlite file in \(data.path): is it the services' data folder?") }
            let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "-")
            let folder = URL(fileURLWithPath: to).appendingPathComponent("aiwf-\(stamp)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for file in files {
                let copy = folder.appendingPathComponent(file.lastPathComponent)
                try Self.backUp(file, to: copy)
                print("\(file.lastPathComponent) → \(copy.path)")
            }
            print("backed up \(files.count) database(s) into \(folder.path); copy the artifacts folder and review-link.key beside them")
        }

        static func databases(in folder: URL) throws -> [URL] {
            try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "sqlite" }.sorted { $0.path < $1.path }
        }

        /// A consistent copy of `source` (WAL included) at `destination`, checked with `PRAGMA integrity_check`.
        static func backUp(_ source: URL, to destination: URL) throws {
            var configuration = Configuration()
            configuration.readonly = true
            let from = try DatabaseQueue(path: source.path, configuration: configuration)
            let into = try DatabaseQueue(path: destination.path)
            try from.backup(to: into)
            let check = try into.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
            guard check == "ok" else {
                throw CLIError("the copy of \(source.lastPathComponent) failed its integrity check: \(check ?? "")")
            }
        }
    }
}
