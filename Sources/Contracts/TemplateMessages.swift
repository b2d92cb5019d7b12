import Foundation

/// Lists the latest version of every template.
public struct ListTemplates: Request {
    public static let type = "template.list.v1"
    public typealias Reply = [TemplateSummary]
    public init() {}
}

/// Gets one template: the given version, or the latest.
public struct GetTemplate: Request {
    public static let type = "template.get.v1"
    public typealias Reply = TemplateDocument
    public var code: String
    public var version: Int?

    public init(code: String, version: Int? = nil) {
        self.code = code
        self.version = version
    }
}

/// Checks a YAML template without storing it.
public struct ValidateTemplate: Request {
    public static let type = "template.validate.v1"
    public typealias Reply = TemplateValidation
    public var yaml: String

    public init(yaml: String) {
        self.yaml = yaml
    }
}

/// Creates a custom template or a new version of one; refused with every problem listed when it is not valid.
public struct UpsertTemplate: Request {
    public static let type = "template.upsert.v1"
    public typealias Reply = TemplateSummary
    public var yaml: String

    public init(yaml: String) {
        self.yaml = yaml
    }
}

/// Renders a stage's prompt for given parameters, as it would be sent to a model.
public struct PreviewPrompt: Request {
    public static let type = "template.preview-prompt.v1"
    public typealias Reply = PromptPreview
    public var code: String
    public var version: Int?
    public var stage: String
    public var params: [String: JSONValue]
    /// Further context: `outputs`, `item`, `feedback`, `project`, `attempt`.
    public var context: [String: JSONValue]

    public init(code: String, version: Int? = nil, stage: String, params: [String: JSONValue], context: [String: JSONValue] = [:]) {
        self.code = code
        self.version = version
        self.stage = stage
        self.params = params
        self.context = context
    }
}

/// A template in a list.
public struct TemplateSummary: Codable, Sendable, Equatable {
    public var code: String
    public var version: Int
    public var name: String
    public var description: String
    public var builtIn: Bool
    public var createdAt: Date

    public init(code: String, version: Int, name: String, description: String, builtIn: Bool, createdAt: Date) {
        self.code = code
        self.version = version
        self.name = name
        self.description = description
        self.builtIn = builtIn
        self.createdAt = createdAt
    }
}

/// One version of a template: its YAML and its resolved definition (prompt files inlined).
public struct TemplateDocument: Codable, Sendable, Equatable {
    public var summary: TemplateSummary
    public var yaml: String
    /// The workflow definition as JSON, decoded by WorkflowKit's `WorkflowDefinition`.
    public var definition: JSONValue

    public init(summary: TemplateSummary, yaml: String, definition: JSONValue) {
        self.summary = summary
        self.yaml = yaml
        self.definition = definition
    }
}

/// The result of validating a template.
public struct TemplateValidation: Codable, Sendable, Equatable {
    public var valid: Bool
    public var issues: [TemplateIssue]

    public init(valid: Bool, issues: [TemplateIssue]) {
        self.valid = valid
        self.issues = issues
    }
}

/// One problem in a template: the field, its line in the YAML, and what is wrong.
public struct TemplateIssue: Codable, Sendable, Equatable {
    public var path: String
    public var line: Int?
    public var message: String

    public init(path: String, line: Int?, message: String) {
        self.path = path
        self.line = line
        self.message = message
    }
}

/// A rendered prompt.
public struct PromptPreview: Codable, Sendable, Equatable {
    public var system: String?
    public var user: String

    public init(system: String?, user: String) {
        self.system = system
        self.user = user
    }
}
