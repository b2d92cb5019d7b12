import Contracts
import Foundation
import WorkflowKit

/// What a system action is given: the project, its stage and every earlier stage's output.
struct ActionInput: Sendable {
    let projectID: String
    /// The stage run the action works for: the same one again after a crash, so a delivery can be recognised.
    let stageRunID: String
    let projectName: String
    /// When the project was created: a fixed date its deliverables may carry, so building again gives the same bytes.
    var projectCreatedAt = Date(timeIntervalSince1970: 0)
    let stage: StageDefinition
    let params: [String: JSONValue]
    /// `outputs.<stage code>`, as prompts see them.
    let outputs: [String: JSONValue]
    /// A folder of the project's own where the action may write.
    let workspace: URL
    /// For a `cli_loop` stage: its rendered prompt, and the output and feedback of its previous round.
    var loop: CLILoopAction.Inputs?
}

/// A file an action produced, stored as an artifact of its stage.
struct ArtifactFile: Sendable {
    let name: String
    let mediaType: String
    let data: Data
}

/// What an action returns: its output (the stage's output for later stages) and its files.
struct ActionOutput: Sendable {
    var output: JSONValue
    var artifacts: [ArtifactFile] = []
}

/// Why an action failed, said so a user can act on it, with the files it made before it failed (kept as artifacts).
struct ActionError: Error, CustomStringConvertible {
    let description: String
    var artifacts: [ArtifactFile] = []

    init(_ description: String, artifacts: [ArtifactFile] = []) {
        self.description = description
        self.artifacts = artifacts
    }
}

/// A named Swift action a `system` stage runs. Actions are idempotent: after a crash the same input may run again.
protocol SystemAction: Sendable {
    func run(_ input: ActionInput) async throws -> ActionOutput
}

/// The actions this StageService can run, by name.
struct ActionRegistry: Sendable {
    private var actions: [String: any SystemAction] = [:]
    /// What runs `cli_loop` stages: by default it allows no command.
    var cliLoop = CLILoopAction(allowed: [], sandbox: .none)

    init() {}

    /// The built-in actions: `test.echo`; `http.post`, to the URLs `httpPost` allows; `cli_loop` stages, running the
    /// commands `cliLoop` allows. `StageService.build` adds the deliverables (`registerDeliverables`); a built-in
    /// name without an action of its own (`ebook.compile_front_back_matter`, `project.notify`) records what it was
    /// given.
    static func standard(httpPost: HTTPPostAction? = nil, cliLoop: CLILoopAction? = nil) -> ActionRegistry {
        var registry = ActionRegistry()
        if let cliLoop { registry.cliLoop = cliLoop }
        for name in BuiltInActions.names { registry.register(name, RecordingAction(name: name)) }
        registry.register("test.echo", EchoAction())
        registry.register(BuiltInActions.httpPost, httpPost ?? HTTPPostAction(poster: nil, allowed: []))
        return registry
    }

    mutating func register(_ name: String, _ action: any SystemAction) {
        actions[name] = action
    }

    func action(_ name: String) -> (any SystemAction)? { actions[name] }
}

/// Records the input it was given as a JSON artifact and returns a summary of it.
struct RecordingAction: SystemAction {
    let name: String

    func run(_ input: ActionInput) async throws -> ActionOutput {
        let given: JSONValue = [
            "action": .string(name), "project": .string(input.projectID), "stage": .string(input.stage.code),
            "params": .object(input.params), "outputs": .object(input.outputs),
        ]
        let data = Data(given.jsonString().utf8)
        return ActionOutput(
            output: ["action": .string(name), "inputs": .array(input.outputs.keys.sorted().map { .string($0) })],
            artifacts: [ArtifactFile(name: "\(name).json", mediaType: "application/json", data: data)])
    }
}

/// Returns its stage's params and outputs; for tests and for trying a custom workflow out.
struct EchoAction: SystemAction {
    func run(_ input: ActionInput) async throws -> ActionOutput {
        ActionOutput(output: ["params": .object(input.params), "outputs": .object(input.outputs)])
    }
}

/// Where artifacts' bytes live: a folder per project and stage, written atomically, named by content version.
struct ArtifactStore: Sendable {
    let root: URL

    /// Writes `file` and returns where it went, its size and its sha256.
    func write(_ file: ArtifactFile, project: String, stage: String, version: Int) throws -> (path: String, sha256: String) {
        let folder = root.appendingPathComponent(project).appendingPathComponent(stage).appendingPathComponent("v\(version)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let safeName = file.name.replacingOccurrences(of: "/", with: "_")
        let url = folder.appendingPathComponent(safeName)
        try file.data.write(to: url, options: .atomic)
        let digest = ProjectWork.sha256(file.data)
        return (url.path, digest)
    }
}
