import Contracts
import Foundation
import Yams

/// Reads workflow YAML into a ``WorkflowDefinition`` and validates it; errors name the file, line and field.
public enum WorkflowLoader {
    /// Loads `workflow.yaml` from a folder, reading prompt files (`system_file`, `user_file`, `partial_files`)
    /// relative to it.
    public static func load(directory: URL, knownActions: Set<String> = BuiltInActions.names) throws(WorkflowError) -> LoadedWorkflow {
        let file = directory.appendingPathComponent("workflow.yaml")
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw WorkflowError(
                file: file.path, issues: [WorkflowIssue(path: "", message: "cannot read the file: \(error.localizedDescription)")])
        }
        return try load(yaml: text, file: file.path, directory: directory, knownActions: knownActions)
    }

    /// Loads a YAML document; without a `directory` prompt files cannot be referenced (an upload inlines them).
    public static func load(
        yaml: String,
        file: String = "workflow.yaml",
        directory: URL? = nil,
        knownActions: Set<String> = BuiltInActions.names,
        bounds: YAMLBounds = YAMLBounds()
    ) throws(WorkflowError) -> LoadedWorkflow {
        if let violation = bounds.violation(in: yaml) {
            throw WorkflowError(file: file, issues: [WorkflowIssue(path: "", message: violation)])
        }
        var lines: [String: Int] = [:]
        let document: JSONValue
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw WorkflowError(file: file, issues: [WorkflowIssue(path: "", message: "the document is empty")])
            }
            document = try convert(node, path: "", lines: &lines)
        } catch let error as WorkflowError {
            throw error
        } catch let error as YamlError {
            // The parser quotes the offending line, which in a hostile upload can be the whole document.
            throw WorkflowError(file: file, issues: [WorkflowIssue(path: "", message: "not valid YAML: \("\(error)".prefix(1_000))")])
        } catch {
            throw WorkflowError(file: file, issues: [WorkflowIssue(path: "", message: "not valid YAML: \(error)")])
        }
        let resolved: JSONValue
        do {
            resolved = try resolveFiles(document, directory: directory)
        } catch let issue as WorkflowIssue {
            throw WorkflowError(file: file, issues: [issue], lines: lines)
        } catch {
            throw WorkflowError(file: file, issues: [WorkflowIssue(path: "", message: "\(error)")], lines: lines)
        }
        let definition: WorkflowDefinition
        do {
            definition = try WorkflowDefinition(json: resolved)
        } catch let error as DecodingError {
            throw WorkflowError(file: file, issues: [WorkflowIssue(error)], lines: lines)
        } catch {
            throw WorkflowError(file: file, issues: [WorkflowIssue(path: "", message: "\(error)")], lines: lines)
        }
        let issues = WorkflowValidator(definition: definition, knownActions: knownActions).validate()
        guard issues.isEmpty else { throw WorkflowError(file: file, issues: issues, lines: lines) }
        return LoadedWorkflow(definition: definition, source: yaml)
    }

    /// YAML nodes to JSON values, recording the line of every path.
    private static func convert(_ node: Node, path: String, lines: inout [String: Int]) throws -> JSONValue {
        if let mark = node.mark { lines[path] = mark.line }
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int: return node.int.map { .number(Double($0)) } ?? .string(scalar.string)
            case .float: return node.float.map(JSONValue.number) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard let name = key.string else { continue }
                let childPath = path.isEmpty ? name : "\(path).\(name)"
                if members[name] != nil {
                    throw WorkflowIssue(path: childPath, message: "'\(name)' appears twice")
                }
                members[name] = try convert(value, path: childPath, lines: &lines)
            }
            return .object(members)
        case .sequence(let sequence):
            return .array(try sequence.enumerated().map { index, item in try convert(item, path: "\(path)[\(index)]", lines: &lines) })
        case .alias:
            throw WorkflowIssue(path: path, message: "YAML aliases are not supported; repeat the value")
        }
    }

    /// Whether `file` is in `folder` once both have their symbolic links resolved, comparing whole path components
    /// (so `/w/site-evil/x` is not inside `/w/site`).
    static func isInside(_ file: URL, _ folder: URL) -> Bool {
        let folderComponents = folder.resolvingSymlinksInPath().standardizedFileURL.pathComponents
        let fileComponents = file.resolvingSymlinksInPath().standardizedFileURL.pathComponents
        return fileComponents.count > folderComponents.count && Array(fileComponents.prefix(folderComponents.count)) == folderComponents
    }

    /// Replaces `system_file`, `user_file` and `partial_files` in each stage's prompt by the files' text.
    private static func resolveFiles(_ document: JSONValue, directory: URL?) throws -> JSONValue {
        guard case .object(var root) = document, case .array(let stages) = root["stages"] else { return document }
        root["stages"] = .array(
            try stages.enumerated().map { index, stage in
                guard case .object(var members) = stage, case .object(var prompt) = members["prompt"] else { return stage }
                let path = "stages[\(index)].prompt"
                func read(_ relative: JSONValue?, _ key: String) throws -> JSONValue? {
                    guard let relative else { return nil }
                    guard let name = relative.stringValue else {
                        throw WorkflowIssue(path: "\(path).\(key)", message: "must be a file name")
                    }
                    guard let directory else {
                        throw WorkflowIssue(
                            path: "\(path).\(key)", message: "an uploaded template cannot refer to files; put the text inline")
                    }
                    let url = directory.appendingPathComponent(name)
                    guard Self.isInside(url, directory) else {
                        throw WorkflowIssue(path: "\(path).\(key)", message: "'\(name)' is outside the workflow's folder")
                    }
                    do {
                        return .string(try String(contentsOf: url, encoding: .utf8))
                    } catch {
                        throw WorkflowIssue(path: "\(path).\(key)", message: "cannot read '\(name)': \(error.localizedDescription)")
                    }
                }
                if let text = try read(prompt.removeValue(forKey: "system_file"), "system_file") { prompt["system"] = text }
                if let text = try read(prompt.removeValue(forKey: "user_file"), "user_file") { prompt["user"] = text }
                if case .object(let files) = prompt.removeValue(forKey: "partial_files") {
                    var partials = prompt["partials"]?.objectValue ?? [:]
                    for (name, file) in files { partials[name] = try read(file, "partial_files.\(name)") }
                    prompt["partials"] = .object(partials)
                }
                members["prompt"] = .object(prompt)
                return .object(members)
            }
        )
        return .object(root)
    }
}

/// A validated definition and the YAML it came from.
public struct LoadedWorkflow: Sendable, Equatable {
    public let definition: WorkflowDefinition
    public let source: String
}

/// One problem in a template: the field (`stages[2].next_stage`) and what is wrong.
public struct WorkflowIssue: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    public var path: String
    public var message: String
    /// The line in the YAML file, when known.
    public var line: Int?

    public init(path: String, message: String, line: Int? = nil) {
        self.path = path
        self.message = message
        self.line = line
    }

    init(_ error: DecodingError) {
        func render(_ codingPath: [any CodingKey]) -> String {
            codingPath.reduce(into: "") { path, key in
                if let index = key.intValue { path += "[\(index)]" } else { path += path.isEmpty ? key.stringValue : ".\(key.stringValue)" }
            }
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = render(context.codingPath)
            self.init(path: parent.isEmpty ? key.stringValue : "\(parent).\(key.stringValue)", message: "is required")
        case .typeMismatch(let type, let context):
            self.init(path: render(context.codingPath), message: "expected \(Self.name(of: type))")
        case .valueNotFound(let type, let context):
            self.init(path: render(context.codingPath), message: "expected \(Self.name(of: type)), found nothing")
        case .dataCorrupted(let context):
            self.init(path: render(context.codingPath), message: context.debugDescription)
        @unknown default:
            self.init(path: "", message: "\(error)")
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a text"
        case is Int.Type: "a whole number"
        case is Bool.Type: "true or false"
        case is [StageDefinition].Type: "a list of stages"
        default: "\(type)".lowercased()
        }
    }

    public var description: String {
        let location = line.map { "line \($0): " } ?? ""
        return path.isEmpty ? "\(location)\(message)" : "\(location)\(path): \(message)"
    }
}

/// Every problem found in one template file.
public struct WorkflowError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let issues: [WorkflowIssue]

    public init(file: String, issues: [WorkflowIssue], lines: [String: Int] = [:]) {
        self.file = file
        self.issues = issues.map { issue in
            var issue = issue
            issue.line = issue.line ?? Self.line(for: issue.path, in: lines)
            return issue
        }
    }

    /// The line of the path, or of its nearest parent that has one.
    private static func line(for path: String, in lines: [String: Int]) -> Int? {
        var current = path
        while true {
            if let line = lines[current] { return line }
            guard let cut = current.lastIndex(where: { $0 == "." || $0 == "[" }) else { return lines[""] }
            current = String(current[..<cut])
        }
    }

    public var description: String {
        issues.map { issue in
            let location = issue.line.map { "\(file):\($0)" } ?? file
            return issue.path.isEmpty ? "\(location): \(issue.message)" : "\(location): \(issue.path): \(issue.message)"
        }.joined(separator: "\n")
    }
}

/// The names of the built-in actions `system` stages may run; their implementations live in StageService.
public enum BuiltInActions {
    public static let names: Set<String> = [
        "website.create_page_tasks", "website.build_site", "website.publish",
        "ebook.compile_front_back_matter", "ebook.compile_epub",
        "course.package",
        "survey.publish_form",
        "video.export",
        "project.notify",
        // Returns the stage's params and earlier outputs: for trying a custom workflow out.
        "test.echo",
        httpPost,
    ]

    /// Sends the stage's context to the stage's `endpoint` and takes the JSON answer as its output.
    public static let httpPost = "http.post"
}
