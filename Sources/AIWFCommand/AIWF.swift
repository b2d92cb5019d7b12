import ArgumentParser
import AsyncHTTPClient
import Contracts
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// The command-line client: templates, projects and approvals of a running aiwf, through the Gateway's REST API.
@main
struct AIWF: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aiwf", abstract: "Create and follow aiwf projects, and decide their approvals.",
        subcommands: [
            Templates.self, Create.self, Status.self, List.self, Watch.self, Approvals.self, Decide.Approve.self,
            Decide.RequestChanges.self, Decide.Reject.self, Change.Start.self, Change.Pause.self, Change.Resume.self,
            Change.Advance.self, Change.Retry.self, Change.Restart.self, Change.Cancel.self, Admin.self,
        ])
}

/// How every subcommand reaches the system: the Gateway's REST API, with an API key.
struct Connection: ParsableArguments {
    @Option(help: "The Gateway (AIWF_URL; default http://localhost:8080).")
    var url: String?

    @Option(help: "An API key (AIWF_API_KEY); make one with: curl -u EMAIL:PASSWORD -X POST $AIWF_URL/api/v1/keys -d '{\"name\": \"cli\"}'")
    var apiKey: String?

    @Option(help: "Seconds to wait for an answer.")
    var timeout: Int = 30

    var base: String {
        (url ?? ProcessInfo.processInfo.environment["AIWF_URL"] ?? "http://localhost:8080").trimmingCharacters(in: ["/"])
    }

    func get<Reply: Decodable>(_ path: String, as type: Reply.Type = Reply.self) async throws -> Reply {
        try decode(try await send(.GET, path, body: nil))
    }

    func post<Reply: Decodable>(_ path: String, _ body: JSONValue? = nil, as type: Reply.Type = Reply.self) async throws -> Reply {
        try decode(try await send(.POST, path, body: body))
    }

    /// The text of an answer that is not JSON (the event stream).
    func text(_ path: String) async throws -> String { String(decoding: try await send(.GET, path, body: nil), as: UTF8.self) }

    private func send(_ method: HTTPMethod, _ path: String, body: JSONValue?) async throws -> Data {
        guard let key = apiKey ?? ProcessInfo.processInfo.environment["AIWF_API_KEY"], !key.isEmpty else {
            throw CLIError(
                "set AIWF_API_KEY (or --api-key): make a key with curl -u EMAIL:PASSWORD -X POST \(base)/api/v1/keys -H 'content-type: application/json' -d '{\"name\": \"cli\"}'"
            )
        }
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "authorization", value: "Bearer \(key)")
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.jsonString()))
        }
        let data: Data
        let status: UInt
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(Int64(timeout)))
            status = response.status.code
            data = Data(buffer: try await response.body.collect(upTo: 64 << 20))
        } catch {
            throw CLIError("no answer from \(base): \(error); is the system running (scripts/run.sh)?")
        }
        guard status < 300 else { throw CLIError(status: Int(status), body: data) }
        return data
    }

    private func decode<Reply: Decodable>(_ data: Data) throws -> Reply {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(Reply.self, from: data)
    }
}

/// An error as a person reads it: the API's code and message with each field it names, not a type name.
struct CLIError: Error, CustomStringConvertible {
    let description: String

    init(status: Int, body: Data) {
        guard let error = (try? JSONValue.parse(body))?["error"], let code = error["code"]?.stringValue else {
            description = "HTTP \(status): \(String(decoding: body.prefix(500), as: UTF8.self))"
            return
        }
        let details = (error["details"]?.arrayValue ?? []).map {
            "\n  \($0["pointer"]?.stringValue ?? ""): \($0["message"]?.stringValue ?? "")"
        }
        description = "\(code): \(error["message"]?.stringValue ?? "")" + details.joined()
    }

    init(_ description: String) { self.description = description }
}

struct Templates: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the workflow templates.")
    @OptionGroup var connection: Connection

    func run() async throws {
        let templates = try await connection.get("/api/v1/templates", as: [TemplateSummary].self)
        for template in templates {
            print("\(template.code.padding(toLength: 12, withPad: " ", startingAt: 0)) v\(template.version)  \(template.name)")
        }
    }
}

struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a project from a template.")
    @OptionGroup var connection: Connection

    @Argument(help: "The template's code, e.g. website.") var template: String
    @Option(help: "The project's name.") var name: String?
    @Option(name: .customLong("param"), help: "A parameter as name=value (value as JSON where it parses, else text); repeat.")
    var params: [String] = []
    @Option(help: "The most the project may spend, in US dollars.") var budget: Double?
    @Flag(help: "Start at once.") var start = false

    func run() async throws {
        var values: [String: JSONValue] = [:]
        for param in params {
            guard let equals = param.firstIndex(of: "=") else { throw CLIError("--param \(param): write it as name=value") }
            let value = String(param[param.index(after: equals)...])
            values[String(param[..<equals])] = (try? JSONValue.parse(Data(value.utf8))) ?? .string(value)
        }
        var body: [String: JSONValue] = [
            "template": .string(template), "name": .string(name ?? "\(template) project"), "params": .object(values), "start": .bool(start),
        ]
        if let budget { body["budget"] = .number(budget) }
        let project = try await connection.post("/api/v1/projects", .object(body), as: ProjectView.self)
        print(project.id)
        FileHandle.standardError.write(
            Data("created \(project.name) (\(project.state.rawValue)); follow it with: aiwf watch \(project.id)\n".utf8))
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a project, its stages and tasks.")
    @OptionGroup var connection: Connection
    @Argument var projectID: String

    func run() async throws {
        let detail = try await connection.get("/api/v1/projects/\(projectID)", as: ProjectDetail.self)
        let project = detail.project
        print("\(project.name)  [\(project.template) v\(project.templateVersion)]  \(project.state.rawValue)  \(project.progress)%")
        if let stage = project.stage { print("stage: \(stage)\(project.waitingFor.map { ", waiting for \($0.rawValue)" } ?? "")") }
        if let message = project.message { print("note: \(message)") }
        print(String(format: "cost: $%.4f", project.cost))
        for run in detail.stageRuns {
            let tasks = detail.tasks.filter { $0.stageRunID == run.id }
            let done = tasks.filter { $0.state == .done }.count
            print("  \(run.stage) (round \(run.round)): \(run.state)\(tasks.isEmpty ? "" : ", \(done)/\(tasks.count) tasks done")")
        }
        for artifact in detail.artifacts { print("  artifact: \(artifact.name) (\(artifact.size) bytes)") }
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List your projects.")
    @OptionGroup var connection: Connection

    func run() async throws {
        let page = try await connection.get("/api/v1/projects?limit=200", as: ProjectPage.self)
        for project in page.projects {
            print(
                "\(project.id)  \(project.state.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) \(project.progress)%  \(project.name)"
            )
        }
    }
}

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Follow a project's events until it is done, fails or waits for you.")
    @OptionGroup var connection: Connection
    @Argument var projectID: String
    @Flag(help: "Keep following while it waits for an approval or an advance.") var follow = false

    func run() async throws {
        var last = 0
        while true {
            let events = Self.events(try await connection.text("/api/v1/projects/\(projectID)/events?follow=false&after=\(last)"))
            for event in events {
                print("\(event.sequence)\t\(event.progress)%\t\(event.kind)\t\(event.message)")
                last = event.sequence
            }
            if let final = events.last {
                if final.state == .done || final.state == .failed { return }
                // It waits for the user: an approval, or someone to advance it (the project says which it waits for).
                if !follow, final.kind == "approval.requested" { return }
                if !follow, final.kind == "stage.waiting",
                    try await connection.get("/api/v1/projects/\(projectID)", as: ProjectDetail.self).project.waitingFor == .advance
                {
                    return
                }
            }
            try await Task.sleep(for: .milliseconds(300))
        }
    }

    /// The log entries of a server-sent event stream (its `data:` lines).
    static func events(_ stream: String) -> [ProjectEvent] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return stream.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("data: ") else { return nil }
            return try? decoder.decode(ProjectEvent.self, from: Data(line.dropFirst(6).utf8))
        }
    }
}

struct Approvals: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the approvals waiting for you.")
    @OptionGroup var connection: Connection

    func run() async throws {
        let approvals = try await connection.get("/api/v1/approvals", as: [ApprovalView].self)
        for approval in approvals {
            print("\(approval.id)  \(approval.approvalType.rawValue)  project \(approval.projectID)  \(approval.summary)")
            for item in approval.items { print("    item \(item.id): \(item.title)") }
        }
    }
}

/// Decisions: each looks up the approval first, for the content hash the decider saw.
enum Decide {
    static func decide(
        _ connection: Connection, approvalID: String, decision: ApprovalDecision, feedback: String? = nil, reason: String? = nil,
        changing itemIDs: [String] = []
    ) async throws {
        // A project that has just asked for an approval may not have it stored at ApprovalService yet: a few tries.
        var found: ApprovalView?
        for attempt in 0..<20 {
            let pending = try await connection.get("/api/v1/approvals", as: [ApprovalView].self)
            found = pending.first { $0.id == approvalID || $0.projectID == approvalID }
            if found != nil || attempt == 19 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        guard let approval = found else {
            throw CLIError("no pending approval of yours has the id '\(approvalID)' (see: aiwf approvals)")
        }
        if let unknown = itemIDs.first(where: { id in !approval.items.contains { $0.id == id } }) {
            throw CLIError("approval \(approval.id) has no item '\(unknown)' (see: aiwf approvals)")
        }
        var body: [String: JSONValue] = ["decision": .string(decision.rawValue), "contentHash": .string(approval.contentHash)]
        if let feedback { body["feedback"] = .string(feedback) }
        if let reason { body["reason"] = .string(reason) }
        // Changes to some items: those get the feedback, the others are approved.
        if !itemIDs.isEmpty {
            body["items"] = .array(
                approval.items.map { item in
                    itemIDs.contains(item.id)
                        ? ["itemID": .string(item.id), "decision": "request_changes", "feedback": feedback.map { .string($0) } ?? .null]
                        : ["itemID": .string(item.id), "decision": "approve"]
                })
        }
        let view = try await connection.post("/api/v1/approvals/\(approval.id)/decision", .object(body), as: ApprovalView.self)
        print("\(view.id): \(view.state.rawValue)")
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve (an approval id, or a project id for its pending one).")
        @OptionGroup var connection: Connection
        @Argument var approvalID: String
        func run() async throws { try await Decide.decide(connection, approvalID: approvalID, decision: .approve) }
    }

    struct RequestChanges: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "request-changes", abstract: "Ask for changes, with feedback.")
        @OptionGroup var connection: Connection
        @Argument var approvalID: String
        @Option(help: "What to change.") var feedback: String
        @Option(name: .customLong("item"), help: "Only these items (ids); the others are approved.") var itemIDs: [String] = []
        func run() async throws {
            try await Decide.decide(connection, approvalID: approvalID, decision: .requestChanges, feedback: feedback, changing: itemIDs)
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject, with a reason; the project fails.")
        @OptionGroup var connection: Connection
        @Argument var approvalID: String
        @Option(help: "Why.") var reason: String
        func run() async throws { try await Decide.decide(connection, approvalID: approvalID, decision: .reject, reason: reason) }
    }
}

/// The project actions, one subcommand each.
enum Change {
    static func change(_ connection: Connection, _ projectID: String, _ action: ProjectAction, stage: String? = nil) async throws {
        let project = try await connection.post(
            "/api/v1/projects/\(projectID)/\(action.rawValue)", stage.map { ["stage": .string($0)] }, as: ProjectView.self)
        print("\(project.id): \(project.state.rawValue)\(project.stage.map { " at \($0)" } ?? "")")
    }

    struct Start: AsyncParsableCommand {
        @OptionGroup var connection: Connection
        @Argument var projectID: String
        func run() async throws { try await Change.change(connection, projectID, .start) }
    }

    struct Pause: AsyncParsableCommand {
        @OptionGroup var connection: Connection
        @Argument var projectID: String
        func run() async throws { try await Change.change(connection, projectID, .pause) }
    }

    struct Resume: AsyncParsableCommand {
        @OptionGroup var connection: Connection
        @Argument var projectID: String
        func run() async throws { try await Change.change(connection, projectID, .resume) }
    }

    struct Advance: AsyncParsableCommand {
        @OptionGroup var connection: Connection
        @Argument var projectID: String
        func run() async throws { try await Change.change(connection, projectID, .advance) }
    }

    struct Retry: AsyncParsableCommand {
        @OptionGroup var connection: Connection
        @Argument var projectID: String
        func run() async throws { try await Change.change(connection, projectID, .retry) }
    }

    struct Restart: AsyncParsableCommand {
        @OptionGroup var connection: Connection
        @Argument var projectID: String
        @Option(help: "The stage to run again from.") var stage: String
        func run() async throws { try await Change.change(connection, projectID, .restart, stage: stage) }
    }

    struct Cancel: AsyncParsableCommand {
        @OptionGroup var connection: Connection
        @Argument var projectID: String
        func run() async throws { try await Change.change(connection, projectID, .cancel) }
    }
}
