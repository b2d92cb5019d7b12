import Contracts
import Foundation
import Messaging
import WorkflowKit

/// Answers the template requests of `Contracts/TemplateMessages.swift`.
struct TemplateHandlers: Sendable {
    let store: TemplateStore

    var handlers: RequestHandlers {
        var handlers = RequestHandlers()
        handlers.on(ListTemplates.self) { _, _ in try await store.latest() }
        handlers.on(GetTemplate.self) { envelope, _ in try await document(envelope.payload.code, envelope.payload.version) }
        handlers.on(ValidateTemplate.self) { envelope, _ in validate(envelope.payload.yaml) }
        handlers.on(UpsertTemplate.self) { envelope, _ in try await upsert(envelope.payload.yaml) }
        handlers.on(PreviewPrompt.self) { envelope, _ in try await preview(envelope.payload) }
        return handlers
    }

    private func document(_ code: String, _ version: Int?) async throws -> TemplateDocument {
        try found(try await store.document(code: code, version: version), code, version)
    }

    /// The value, or the refusal that says which template or version is missing.
    private func found<Value>(_ value: Value?, _ code: String, _ version: Int?) throws -> Value {
        guard let value else {
            throw TemplateServiceError.notFound(
                version.map { "template '\(code)' has no version \($0)" } ?? "no template has the code '\(code)'"
            )
        }
        return value
    }

    private func validate(_ yaml: String) -> TemplateValidation {
        do {
            _ = try WorkflowLoader.load(yaml: yaml)
            return TemplateValidation(valid: true, issues: [])
        } catch {
            return TemplateValidation(
                valid: false, issues: error.issues.map { TemplateIssue(path: $0.path, line: $0.line, message: $0.message) })
        }
    }

    private func upsert(_ yaml: String) async throws -> TemplateSummary {
        let loaded: LoadedWorkflow
        do {
            loaded = try WorkflowLoader.load(yaml: yaml, file: "template")
        } catch {
            throw TemplateServiceError.invalid("the template has \(error.issues.count) problem(s):\n\(error.description)")
        }
        return try await store.save(loaded, builtIn: false).0
    }

    private func preview(_ request: PreviewPrompt) async throws -> PromptPreview {
        let definition = try found(try await store.definition(code: request.code, version: request.version), request.code, request.version)
        guard let stage = definition.stage(request.stage) else {
            throw TemplateServiceError.notFound("template '\(request.code)' has no stage '\(request.stage)'")
        }
        guard let prompt = stage.prompt else {
            throw TemplateServiceError.invalid("stage '\(request.stage)' is \(stage.executionMode.rawValue) and has no prompt")
        }
        let params = definition.parameters(request.params)
        let violations = try JSONSchema(definition.paramsSchema).validate(.object(params))
        guard violations.isEmpty else {
            throw TemplateServiceError.invalid(
                "the parameters do not match the template: \(violations.map(\.description).joined(separator: "; "))")
        }
        var context = request.context
        context["params"] = .object(params)
        context["stage"] = ["code": .string(stage.code), "name": .string(stage.name)]
        context["attempt"] = context["attempt"] ?? 1
        let rendered = try PromptRenderer.render(prompt, context: .object(context))
        return PromptPreview(system: rendered.system, user: rendered.user)
    }
}

/// A refusal TemplateService sends back to the caller.
struct TemplateServiceError: ReplyableError {
    let code: String
    let message: String

    static func notFound(_ message: String) -> Self { Self(code: "not-found", message: message) }
    static func invalid(_ message: String) -> Self { Self(code: "invalid", message: message) }
    static func conflict(_ message: String) -> Self { Self(code: "conflict", message: message) }
}
