import AMQPClient
import ArgumentParser
import Contracts
import Foundation
import Logging
import Messaging

/// The command-line client: templates, projects and approvals of a running aiwf, over AMQP.
@main
struct AIWF: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aiwf", abstract: "Create and follow aiwf projects, and decide their approvals.",
        subcommands: [
            Templates.self, Create.self, Status.self, List.self, Watch.self, Approvals.self, Decide.Approve.self,
            Decide.RequestChanges.self, Decide.Reject.self, Change.Start.self, Change.Pause.self, Change.Resume.self,
            Change.Advance.self, Change.Retry.self, Change.Restart.self, Change.Cancel.self,
        ])
}

/// How every subcommand reaches the system, and who it acts for.
struct Connection: ParsableArguments {
    @Option(help: "The broker (AIWF_AMQP_URL; default amqp://guest:guest@localhost:5672/).")
    var amqpURL: String?

    @Option(help: "The user to act as (AIWF_USER; default your login name).")
    var user: String?

    @Option(help: "Seconds to wait for an answer.")
    var timeout: Int = 15

    var actor: Actor {
        Actor(userID: user ?? ProcessInfo.processInfo.environment["AIWF_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "local")
    }

    /// Runs `body` with a bus, and closes it.
    func withBus<Result>(_ body: (AMQPBus, MessageContext) async throws -> Result) async throws -> Result {
        let text = amqpURL ?? ProcessInfo.processInfo.environment["AIWF_AMQP_URL"] ?? "amqp://guest:guest@localhost:5672/"
        var logger = Logger(label: "aiwf")
        logger.logLevel = .error
        let bus = AMQPBus(url: try AMQPURL(text), serviceName: "aiwf-cli", logger: logger)
        do {
            let result = try await body(bus, MessageContext(actor: actor))
            await bus.close()
            return result
        } catch {
            await bus.close()
            throw CLIError(describing: error)
        }
    }

    func request<R: Request>(_ request: R, bus: AMQPBus, context: MessageContext) async throws -> R.Reply {
        try await bus.request(request, context: context, timeout: .seconds(timeout))
    }
}

/// An error as a person reads it: the service's code and message, not a type name.
struct CLIError: Error, CustomStringConvertible {
    let description: String

    init(describing error: any Error) {
        switch error {
        case let remote as RemoteError: description = "\(remote.code): \(remote.message)"
        case let timeout as RequestTimeoutError: description = "no answer: \(timeout); is the system running (scripts/run.sh)?"
        default: description = "\(error)"
        }
    }

    init(_ description: String) { self.description = description }
}

struct Templates: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the workflow templates.")
    @OptionGroup var connection: Connection

    func run() async throws {
        let templates = try await connection.withBus { bus, context in
            try await connection.request(ListTemplates(), bus: bus, context: context)
        }
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
    @Option(help: "Where approval e-mails go.") var email: String?
    @Flag(help: "Start at once.") var start = false

    func run() async throws {
        var values: [String: JSONValue] = [:]
        for param in params {
            guard let equals = param.firstIndex(of: "=") else { throw CLIError("--param \(param): write it as name=value") }
            let value = String(param[param.index(after: equals)...])
            values[String(param[..<equals])] = (try? JSONValue.parse(Data(value.utf8))) ?? .string(value)
        }
        let request = CreateProject(
            template: template, name: name ?? "\(template) project", params: values, budget: budget, start: start, ownerEmail: email)
        let project = try await connection.withBus { bus, context in try await connection.request(request, bus: bus, context: context) }
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
        let detail = try await connection.withBus { bus, context in
            try await connection.request(GetProject(projectID: projectID), bus: bus, context: context)
        }
        let project = detail.project
        print("\(project.name)  [\(project.template) v\(project.templateVersion)]  \(project.state.rawValue)  \(project.progress)%")
        if let stage = project.stage { print("stage: \(stage)\(project.waitingFor.map { ", waiting for \($0)" } ?? "")") }
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
        let page = try await connection.withBus { bus, context in try await connection.request(ListProjects(), bus: bus, context: context) }
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
        try await connection.withBus { bus, context in
            var last = 0
            while true {
                let events = try await connection.request(GetProjectEvents(projectID: projectID, after: last), bus: bus, context: context)
                for event in events {
                    print("\(event.sequence)\t\(event.progress)%\t\(event.kind)\t\(event.message)")
                    last = event.sequence
                }
                if let final = events.last {
                    if final.state == .done || final.state == .failed { return }
                    // It waits for the user: an approval, or someone to advance it (the project says which it waits for).
                    if !follow, final.kind == "approval.requested" { return }
                    if !follow, final.kind == "stage.waiting",
                        try await connection.request(GetProject(projectID: projectID), bus: bus, context: context).project.waitingFor
                            == "advance"
                    {
                        return
                    }
                }
                try await Task.sleep(for: .milliseconds(300))
            }
        }
    }
}

struct Approvals: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the approvals waiting for you.")
    @OptionGroup var connection: Connection

    func run() async throws {
        let approvals = try await connection.withBus { bus, context in
            try await connection.request(
                ListPendingApprovals(userID: connection.actor.userID), bus: bus, context: context)
        }
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
        let view = try await connection.withBus { bus, context in
            let pending = try await connection.request(ListPendingApprovals(userID: connection.actor.userID), bus: bus, context: context)
            guard let approval = pending.first(where: { $0.id == approvalID || $0.projectID == approvalID }) else {
                throw CLIError("no pending approval of yours has the id '\(approvalID)' (see: aiwf approvals)")
            }
            if let unknown = itemIDs.first(where: { id in !approval.items.contains { $0.id == id } }) {
                throw CLIError("approval \(approval.id) has no item '\(unknown)' (see: aiwf approvals)")
            }
            // Changes to some items: those get the feedback, the others are approved.
            let items =
                itemIDs.isEmpty
                ? []
                : approval.items.map { item in
                    itemIDs.contains(item.id)
                        ? ItemDecision(itemID: item.id, decision: .requestChanges, feedback: feedback)
                        : ItemDecision(itemID: item.id, decision: .approve)
                }
            return try await connection.request(
                DecideApproval(
                    approvalID: approval.id, decider: .user(connection.actor.userID), decision: decision,
                    contentHash: approval.contentHash, feedback: feedback, reason: reason, items: items),
                bus: bus, context: context)
        }
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
        let project = try await connection.withBus { bus, context in
            try await connection.request(ChangeProject(projectID: projectID, action: action, stage: stage), bus: bus, context: context)
        }
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
