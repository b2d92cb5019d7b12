import Foundation
import GRDB
import Synchronization
import WorkflowKit

/// Decoded project definitions. A project's definition never changes, so it is read and decoded once per process
/// instead of on every transaction (a definition with its schemas and prompts is tens of kilobytes of JSON).
final class DefinitionCache: Sendable {
    static let shared = DefinitionCache()

    private let entries = Mutex<[String: WorkflowDefinition]>([:])
    /// Beyond this many the cache starts again; a definition is always one read away.
    private let capacity = 2_000

    func definition(of projectID: String, in db: Database) throws -> WorkflowDefinition {
        if let cached = entries.withLock({ $0[projectID] }) { return cached }
        guard let record = try ProjectDefinitionRecord.fetchOne(db, key: projectID) else {
            throw EngineFault.error("project \(projectID) has no stored definition")
        }
        remember(record.definition, for: projectID)
        return record.definition
    }

    func store(_ definition: WorkflowDefinition, for projectID: String, in db: Database) throws {
        try ProjectDefinitionRecord(projectID: projectID, definition: definition).insert(db)
        remember(definition, for: projectID)
    }

    private func remember(_ definition: WorkflowDefinition, for projectID: String) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[projectID] = definition
        }
    }
}
