import Contracts
import Foundation
import GRDB
import WorkflowKit

/// Every version of every template, in TemplateService's SQLite database.
struct TemplateStore: Sendable {
    let database: any DatabaseWriter

    static func migrate(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("templates-v1") { db in
            try db.create(table: "template") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("code", .text).notNull()
                table.column("version", .integer).notNull()
                table.column("name", .text).notNull()
                table.column("description", .text).notNull()
                table.column("yaml", .text).notNull()
                table.column("definition", .text).notNull()
                table.column("builtIn", .boolean).notNull()
                table.column("createdAt", .datetime).notNull()
                table.uniqueKey(["code", "version"])
            }
        }
    }

    /// Stores a template as a new version unless the latest version has the same definition.
    /// Returns the version that now holds it and whether it was created.
    func save(_ loaded: LoadedWorkflow, builtIn: Bool) async throws -> (TemplateSummary, created: Bool) {
        let definition = try String(decoding: Self.encoder.encode(loaded.definition), as: UTF8.self)
        return try await database.write { db in
            let latest = try TemplateRecord.filter(TemplateRecord.Columns.code == loaded.definition.code)
                .order(TemplateRecord.Columns.version.desc).fetchOne(db)
            if let latest, latest.builtIn != builtIn {
                throw TemplateServiceError.conflict(
                    "the code '\(loaded.definition.code)' belongs to a \(latest.builtIn ? "built-in" : "custom") workflow; choose another code"
                )
            }
            if let latest, latest.definition == definition { return (latest.summary, false) }
            var record = TemplateRecord(
                code: loaded.definition.code, version: (latest?.version ?? 0) + 1, name: loaded.definition.name,
                description: loaded.definition.description, yaml: loaded.source, definition: definition, builtIn: builtIn,
                createdAt: Date()
            )
            try record.insert(db)
            return (record.summary, true)
        }
    }

    /// The latest version of every template, by code.
    func latest() async throws -> [TemplateSummary] {
        try await database.read { db in
            try TemplateRecord.fetchAll(
                db,
                sql: "SELECT * FROM template t WHERE version = (SELECT MAX(version) FROM template WHERE code = t.code) ORDER BY code"
            ).map(\.summary)
        }
    }

    /// One version (the latest without `version`), or `nil`.
    func document(code: String, version: Int?) async throws -> TemplateDocument? {
        guard let record = try await record(code: code, version: version) else { return nil }
        return TemplateDocument(summary: record.summary, yaml: record.yaml, definition: try JSONValue.parse(Data(record.definition.utf8)))
    }

    /// One version's definition, decoded straight from what was stored.
    func definition(code: String, version: Int?) async throws -> WorkflowDefinition? {
        guard let record = try await record(code: code, version: version) else { return nil }
        return try JSONDecoder().decode(WorkflowDefinition.self, from: Data(record.definition.utf8))
    }

    private func record(code: String, version: Int?) async throws -> TemplateRecord? {
        try await database.read { db in
            var request = TemplateRecord.filter(TemplateRecord.Columns.code == code)
            if let version { request = request.filter(TemplateRecord.Columns.version == version) }
            return try request.order(TemplateRecord.Columns.version.desc).fetchOne(db)
        }
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}

/// A row of the `template` table.
struct TemplateRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "template"

    var id: Int64?
    var code: String
    var version: Int
    var name: String
    var description: String
    var yaml: String
    var definition: String
    var builtIn: Bool
    var createdAt: Date

    enum Columns {
        static let code = Column(CodingKeys.code)
        static let version = Column(CodingKeys.version)
    }

    init(code: String, version: Int, name: String, description: String, yaml: String, definition: String, builtIn: Bool, createdAt: Date) {
        self.code = code
        self.version = version
        self.name = name
        self.description = description
        self.yaml = yaml
        self.definition = definition
        self.builtIn = builtIn
        self.createdAt = createdAt
    }

    var summary: TemplateSummary {
        TemplateSummary(code: code, version: version, name: name, description: description, builtIn: builtIn, createdAt: createdAt)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
