import Contracts
import Foundation
import HTTPTypes
import Hummingbird

/// `/api/v1/projects`: create (with `Idempotency-Key`), list, one project and its parts, and the commands.
struct ProjectRoutes {
    let backend: Backend
    let accounts: Accounts

    struct CreateBody: APIBody {
        static let fields: Set<String> = ["template", "version", "name", "params", "budget", "start"]
        var template: String
        var version: Int?
        var name: String
        var params: [String: JSONValue]?
        var budget: Double?
        var start: Bool?
    }

    struct ChangeBody: APIBody {
        static let fields: Set<String> = ["stage", "taskID", "budget"]
        var stage: String?
        var taskID: String?
        var budget: Double?
    }

    /// What a project cost, by stage and model.
    struct Usage: Codable, Sendable {
        struct Line: Codable, Sendable {
            var stage: String
            var model: String?
            var tasks: Int
            var tokensIn: Int
            var tokensOut: Int
            var cost: Double
        }
        var cost: Double
        var budget: Double?
        var tokensIn: Int
        var tokensOut: Int
        var lines: [Line]
    }

    func add(to group: RouterGroup<APIContext>) {
        group.post("projects") { request, context in try await create(request, context) }
        group.get("projects") { request, context in try await list(request, context) }
        group.get("projects/:id") { _, context in JSONResponse(try await detail(context)) }
        group.get("projects/:id/tasks") { _, context in JSONResponse(try await detail(context).tasks) }
        group.get("projects/:id/stage-runs") { _, context in JSONResponse(try await detail(context).stageRuns) }
        group.get("projects/:id/artifacts") { _, context in JSONResponse(try await detail(context).artifacts) }
        group.get("projects/:id/usage") { _, context in JSONResponse(Self.usage(of: try await detail(context))) }
        for action in ProjectAction.allCases {
            group.post("projects/:id/\(action.rawValue)") { request, context in
                var request = request
                let body = try await Self.optionalBody(&request, context: context)
                let change = ChangeProject(
                    projectID: try context.parameters.require("id"), action: action, stage: body?.stage, taskID: body?.taskID,
                    budget: body?.budget)
                if action == .restart, change.stage == nil {
                    throw APIError.invalid("say which stage to restart from", details: [.init(pointer: "/stage", message: "is required")])
                }
                return JSONResponse(try await backend.ask(change, as: try context.caller()))
            }
        }
    }

    private func detail(_ context: APIContext) async throws -> ProjectDetail {
        try await backend.ask(GetProject(projectID: try context.parameters.require("id")), as: try context.caller())
    }

    private func list(_ request: Request, _ context: APIContext) async throws -> JSONResponse<ProjectPage> {
        let caller = try context.caller()
        let query = request.uri.queryParameters
        var state: ProjectState?
        if let text = query["state"].map(String.init) {
            guard let parsed = ProjectState(rawValue: text) else {
                throw APIError.badRequest(
                    "state: one of \(ProjectState.allCases.map(\.rawValue).joined(separator: ", "))",
                    details: [.init(pointer: "/state", message: "unknown state '\(text)'")])
            }
            state = parsed
        }
        var limit = 50
        if let text = query["limit"].map(String.init) {
            guard let number = Int(text), (1...ListProjects.maximumLimit).contains(number) else {
                throw APIError.badRequest(
                    "limit: a whole number from 1 to \(ListProjects.maximumLimit)",
                    details: [.init(pointer: "/limit", message: "got '\(text)'")])
            }
            limit = number
        }
        let owner = query["owner"].map(String.init)
        if owner != nil, !caller.isAdmin { throw APIError.forbidden }
        let page = try await backend.ask(
            ListProjects(
                ownerID: caller.isAdmin ? owner : caller.userID, state: state, template: query["template"].map(String.init),
                cursor: query["cursor"].map(String.init), limit: limit), as: caller)
        return JSONResponse(page)
    }

    private func create(_ request: Request, _ context: APIContext) async throws -> Response {
        let caller = try context.caller()
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)  // kept on the request for decodeBody
        let body = try await request.decodeBody(as: CreateBody.self, context: context)
        let make = CreateProject(
            template: body.template, version: body.version, name: body.name, params: body.params ?? [:], budget: body.budget,
            start: body.start ?? false, ownerEmail: caller.email)
        let key = request.headers[.idempotencyKey]
        if let key, !(1...200).contains(key.count) { throw APIError.badRequest("Idempotency-Key: 1 to 200 characters") }
        let bodyHash = Accounts.hash(Data(buffer: buffer))
        let made = try await Self.create(make, once: key.map { ($0, bodyHash) }, as: caller, backend: backend, accounts: accounts)
        let headers: HTTPFields = made.replayed ? [.idempotentReplayed: "true"] : [:]
        return try JSONResponse(made.project, status: made.replayed ? .ok : .created, headers: headers)
            .response(from: request, context: context)
    }

    /// Creates the project; with `once` (a key and a hash of what was asked) at most once per key and person: the
    /// same key again gives the project made the first time, with a different request a conflict.
    static func create(
        _ make: CreateProject, once: (key: String, bodyHash: String)?, as caller: Identity, backend: Backend, accounts: Accounts
    ) async throws -> (project: ProjectView, replayed: Bool) {
        guard let once else { return (try await backend.ask(make, as: caller), false) }
        let (key, bodyHash) = (once.key, once.bodyHash)
        if let earlier = try await accounts.store.claimIdempotencyKey(key, userID: caller.userID, bodyHash: bodyHash, at: Date()) {
            guard earlier.bodyHash == bodyHash else {
                throw APIError(
                    .conflict, "idempotency-key-reused", "this Idempotency-Key was used before with a different body; use a new key")
            }
            guard let projectID = earlier.projectID else {
                throw APIError(
                    .conflict, "in-progress", "a request with this Idempotency-Key is still being handled; try again shortly", retryAfter: 1
                )
            }
            return (try await backend.ask(GetProject(projectID: projectID), as: caller).project, true)
        }
        do {
            let project = try await backend.ask(make, as: caller)
            try await accounts.store.completeIdempotencyKey(key, userID: caller.userID, projectID: project.id)
            return (project, false)
        } catch {
            try? await accounts.store.releaseIdempotencyKey(key, userID: caller.userID)
            throw error
        }
    }

    private static func optionalBody(_ request: inout Request, context: APIContext) async throws -> ChangeBody? {
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return nil }
        return try await request.decodeBody(as: ChangeBody.self, context: context)
    }

    static func usage(of detail: ProjectDetail) -> Usage {
        let groups = Dictionary(grouping: detail.tasks) { "\($0.stage)\u{1}\($0.model ?? "")" }
        let lines = groups.values.map { tasks in
            Usage.Line(
                stage: tasks[0].stage, model: tasks[0].model, tasks: tasks.count, tokensIn: tasks.reduce(0) { $0 + $1.tokensIn },
                tokensOut: tasks.reduce(0) { $0 + $1.tokensOut }, cost: tasks.reduce(0) { $0 + $1.cost })
        }.sorted { ($0.stage, $0.model ?? "") < ($1.stage, $1.model ?? "") }
        return Usage(
            cost: detail.project.cost, budget: detail.project.budget, tokensIn: lines.reduce(0) { $0 + $1.tokensIn },
            tokensOut: lines.reduce(0) { $0 + $1.tokensOut }, lines: lines)
    }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
    static let lastEventID = Self("Last-Event-ID")!
}
