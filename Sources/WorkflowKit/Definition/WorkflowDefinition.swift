import Contracts
import Foundation

/// A workflow template: an ordered list of stages a project runs through (DESIGN.md §2).
public struct WorkflowDefinition: Codable, Sendable, Equatable {
    /// Unique across templates; `website`, `ebook`, or a custom code.
    public var code: String
    public var name: String
    public var description: String
    /// The input contract: a JSON schema for the parameters a project starts with; wizards are generated from it.
    public var paramsSchema: JSONValue
    public var defaultProvider: String?
    public var defaultModel: String?
    public var defaultParams: [String: JSONValue]?
    public var stages: [StageDefinition]

    enum CodingKeys: String, CodingKey {
        case code, name, description, stages
        case paramsSchema = "params_schema"
        case defaultProvider = "default_provider"
        case defaultModel = "default_model"
        case defaultParams = "default_params"
    }

    /// The stage named `code`, if any.
    public func stage(_ code: String) -> StageDefinition? {
        stages.first { $0.code == code }
    }

    /// Stages in the order they run by default.
    public var orderedStages: [StageDefinition] {
        stages.sorted { $0.sequence < $1.sequence }
    }
}

/// One step of a workflow.
public struct StageDefinition: Codable, Sendable, Equatable {
    /// How the stage does its work.
    public enum ExecutionMode: String, Codable, Sendable, CaseIterable {
        /// Generates content with a model, one task or one per `foreach` item.
        case ai
        /// Waits for a person to advance it.
        case manual
        /// Runs a built-in action named by `action`.
        case system
        /// Runs an allow-listed command in the project's workspace until it reports completion.
        case cliLoop = "cli_loop"
    }

    /// What an approval at the end of the stage covers.
    public enum ApprovalType: String, Codable, Sendable, CaseIterable {
        case design, content, final
    }

    /// Referred to by `next_stage`, by `outputs.<code>` in prompts and conditions, and in the API.
    public var code: String
    public var name: String
    /// Steps of 10; the default order.
    public var sequence: Int
    public var executionMode: ExecutionMode
    public var requiresApproval: Bool?
    public var approvalType: ApprovalType?
    public var allowFeedback: Bool?
    public var autoAdvance: Bool?
    /// When the stage is complete; default: every task is done.
    public var transitionCondition: String?
    /// Seconds to wait before an automatic advance.
    public var transitionDelay: Int?
    /// The explicit successor; else the next by sequence; else the project is done.
    public var nextStage: String?
    public var prompt: PromptDefinition?
    public var provider: String?
    public var model: String?
    /// A path to a list (`params.chapters`, `outputs.sitemap.pages`): one task per item.
    public var foreach: String?
    /// The output contract each task's result must satisfy.
    public var outputSchema: JSONValue?
    /// The built-in action of a `system` stage, such as `website.build_site`.
    public var action: String?
    public var cli: CLIDefinition?
    /// The URL an `http.post` action sends the stage's context to; the operator must allow-list it.
    public var endpoint: String?
    /// For a `manual` approval gate: the earlier stage whose output it reviews; requested changes regenerate that
    /// stage with the feedback (per item where it fans out).
    public var reviewOf: String?

    enum CodingKeys: String, CodingKey {
        case code, name, sequence, prompt, provider, model, foreach, action, cli, endpoint
        case executionMode = "execution_mode"
        case requiresApproval = "requires_approval"
        case approvalType = "approval_type"
        case allowFeedback = "allow_feedback"
        case autoAdvance = "auto_advance"
        case transitionCondition = "transition_condition"
        case transitionDelay = "transition_delay"
        case nextStage = "next_stage"
        case outputSchema = "output_schema"
        case reviewOf = "review_of"
    }
}

/// The messages of an `ai` stage's prompt: Mustache templates, inline or loaded from files beside the YAML.
public struct PromptDefinition: Codable, Sendable, Equatable {
    public var system: String?
    public var user: String
    /// Named partials the messages may include with `{{> name}}`.
    public var partials: [String: String]?

    public init(system: String?, user: String, partials: [String: String]? = nil) {
        self.system = system
        self.user = user
        self.partials = partials
    }
}

/// The command of a `cli_loop` stage.
public struct CLIDefinition: Codable, Sendable, Equatable {
    public var command: String
    public var maxIterations: Int?
    public var completionMarker: String?
    public var timeout: Int?

    enum CodingKeys: String, CodingKey {
        case command
        case maxIterations = "max_iterations"
        case completionMarker = "completion_marker"
        case timeout
    }
}

extension StageDefinition {
    public var needsApproval: Bool { requiresApproval ?? false }
}

extension WorkflowDefinition {
    /// A definition sent as JSON: a `TemplateDocument`'s `definition`, or a loaded YAML document.
    public init(json: JSONValue) throws {
        self = try JSONDecoder().decode(WorkflowDefinition.self, from: JSONEncoder().encode(json))
    }

    /// The provider and model `stage` generates with: its own, else the workflow's defaults (nil: the provider
    /// gateway's default).
    public func generator(of stage: StageDefinition) -> (provider: String?, model: String?) {
        (stage.provider ?? defaultProvider, stage.model ?? defaultModel)
    }

    /// The parameters a project runs with: `given` over the workflow's `default_params`.
    public func parameters(_ given: [String: JSONValue]) -> [String: JSONValue] {
        (defaultParams ?? [:]).merging(given) { $1 }
    }
}

extension StageDefinition {
    /// What the stage's approval covers when the workflow does not say: its content.
    public var effectiveApprovalType: ApprovalType { approvalType ?? .content }
}

/// Decodes an enum a workflow names by text; anything else is refused with the texts it may be.
private func decodeChoice<Choice: RawRepresentable & CaseIterable>(from decoder: any Decoder) throws -> Choice
where Choice.RawValue == String {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    guard let choice = Choice(rawValue: text) else {
        throw DecodingError.dataCorruptedError(
            in: container,
            debugDescription: "must be one of \(Choice.allCases.map(\.rawValue).joined(separator: ", ")); got '\(text)'")
    }
    return choice
}

extension StageDefinition.ExecutionMode {
    public init(from decoder: any Decoder) throws { self = try decodeChoice(from: decoder) }
}

extension StageDefinition.ApprovalType {
    public init(from decoder: any Decoder) throws { self = try decodeChoice(from: decoder) }
}
