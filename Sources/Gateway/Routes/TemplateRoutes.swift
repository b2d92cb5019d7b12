import Contracts
import Foundation
import Hummingbird

/// `/api/v1/templates`: the workflows there are, one version, checking and storing YAML, and prompt previews.
struct TemplateRoutes {
    let backend: Backend

    struct PreviewBody: APIBody {
        static let fields: Set<String> = ["version", "params", "context"]
        var version: Int?
        var params: [String: JSONValue]?
        var context: [String: JSONValue]?
    }

    func add(to group: RouterGroup<APIContext>) {
        group.get("templates") { _, context in
            JSONResponse(try await backend.ask(ListTemplates(), as: try context.caller()))
        }
        group.get("templates/:code") { request, context in
            let version = try Self.version(request.uri.queryParameters["version"].map(String.init))
            return JSONResponse(
                try await backend.ask(GetTemplate(code: try context.parameters.require("code"), version: version), as: try context.caller())
            )
        }
        group.post("templates/validate") { request, context in
            var request = request
            let caller = try context.caller()
            return JSONResponse(try await backend.ask(ValidateTemplate(yaml: try await request.bodyText(context: context)), as: caller))
        }
        // Storing YAML that does not validate is a 422 listing every problem with its line and field.
        group.post("templates") { request, context in
            var request = request
            let caller = try context.caller()
            let yaml = try await request.bodyText(context: context)
            let validation = try await backend.ask(ValidateTemplate(yaml: yaml), as: caller)
            guard validation.valid else {
                throw APIError.invalid(
                    "the template is not valid",
                    details: validation.issues.map { issue in
                        .init(pointer: issue.path, message: issue.line.map { "line \($0): \(issue.message)" } ?? issue.message)
                    })
            }
            return JSONResponse(try await backend.ask(UpsertTemplate(yaml: yaml), as: caller), status: .created)
        }
        group.post("templates/:code/stages/:stage/preview") { request, context in
            var request = request
            let caller = try context.caller()
            let body = try await request.decodeBody(as: PreviewBody.self, context: context)
            let preview = PreviewPrompt(
                code: try context.parameters.require("code"), version: body.version, stage: try context.parameters.require("stage"),
                params: body.params ?? [:], context: body.context ?? [:])
            return JSONResponse(try await backend.ask(preview, as: caller))
        }
    }

    static func version(_ text: String?) throws -> Int? {
        guard let text else { return nil }
        guard let version = Int(text), version >= 1 else {
            throw APIError.badRequest("version: a whole number from 1", details: [.init(pointer: "/version", message: "got '\(text)'")])
        }
        return version
    }
}
