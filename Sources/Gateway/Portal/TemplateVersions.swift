import Contracts
import Synchronization
import WorkflowKit

/// The templates the portal shows, each version read from TemplateService once: a stored version never changes,
/// and the project page asks for its project's version at every live refresh.
final class TemplateVersions: Sendable {
    struct Template: Sendable {
        var document: TemplateDocument
        var definition: WorkflowDefinition
    }

    private let backend: Backend
    private let read = Mutex<[String: Template]>([:])

    init(backend: Backend) { self.backend = backend }

    /// Version `version` of `code`, or its latest when nil (asked each time, as a new one may have been stored).
    func template(_ code: String, version: Int?, as caller: Identity) async throws -> Template {
        if let version, let known = read.withLock({ $0[Self.key(code, version)] }) { return known }
        let document = try await backend.ask(GetTemplate(code: code, version: version), as: caller)
        let template = Template(document: document, definition: try WorkflowDefinition(json: document.definition))
        read.withLock { $0[Self.key(code, document.summary.version)] = template }
        return template
    }

    private static func key(_ code: String, _ version: Int) -> String { "\(code)\u{1}\(version)" }
}
