import Contracts
import Foundation

/// Checks a whole template: identity, the stage graph, execution-mode rules, conditions, prompt variables,
/// `foreach` sources and schemas. Returns every problem, not only the first.
struct WorkflowValidator {
    let definition: WorkflowDefinition
    let knownActions: Set<String>

    private static let codePattern = try! NSRegularExpression(pattern: "^[a-z][a-z0-9_-]{0,63}$")
    /// Names a prompt may read at its top level (DESIGN.md §3.8).
    static let promptRoots: Set<String> = ["params", "project", "stage", "item", "outputs", "feedback", "attempt"]
    /// Names a condition may read (DESIGN.md §3.3).
    static let conditionRoots: Set<String> = ["project", "params", "tasks", "outputs"]

    func validate() -> [WorkflowIssue] {
        var issues: [WorkflowIssue] = []
        if !Self.isCode(definition.code) {
            issues.append(
                WorkflowIssue(
                    path: "code", message: "'\(definition.code)' must be lower-case letters, digits, '-' or '_', starting with a letter"))
        }
        if definition.name.trimmingCharacters(in: .whitespaces).isEmpty {
            issues.append(WorkflowIssue(path: "name", message: "must not be empty"))
        }
        let paramsSchema = checkSchema(definition.paramsSchema, path: "params_schema", issues: &issues)
        if let paramsSchema, paramsSchema.document["type"] != "object" {
            issues.append(WorkflowIssue(path: "params_schema.type", message: "the parameters schema must have type object"))
        }
        if let paramsSchema, let defaults = definition.defaultParams {
            for violation in paramsSchema.validate(.object(defaults)) where violation.message != "is required" {
                issues.append(WorkflowIssue(path: "default_params", message: violation.description))
            }
        }
        guard !definition.stages.isEmpty else {
            issues.append(WorkflowIssue(path: "stages", message: "a workflow needs at least one stage"))
            return issues
        }
        let order = checkGraph(&issues)
        let parameters = definition.paramsSchema["properties"]?.objectValue ?? [:]
        for (index, stage) in definition.stages.enumerated() {
            let earlier = Set(order.prefix { $0 != stage.code })
            checkStage(stage, path: "stages[\(index)]", parameters: parameters, earlier: earlier, issues: &issues)
        }
        return issues
    }

    // MARK: Graph

    /// Checks codes, sequences and successors; returns the stage codes in execution order from the first stage.
    private func checkGraph(_ issues: inout [WorkflowIssue]) -> [String] {
        var seenCodes: Set<String> = []
        var seenSequences: [Int: String] = [:]
        for (index, stage) in definition.stages.enumerated() {
            if !Self.isCode(stage.code) {
                issues.append(
                    WorkflowIssue(path: "stages[\(index)].code", message: "'\(stage.code)' must be lower-case letters, digits, '-' or '_'"))
            }
            if !seenCodes.insert(stage.code).inserted {
                issues.append(WorkflowIssue(path: "stages[\(index)].code", message: "another stage already has the code '\(stage.code)'"))
            }
            if let other = seenSequences[stage.sequence] {
                issues.append(
                    WorkflowIssue(path: "stages[\(index)].sequence", message: "\(stage.sequence) is also the sequence of '\(other)'"))
            }
            seenSequences[stage.sequence] = stage.code
            if let next = stage.nextStage, definition.stage(next) == nil {
                issues.append(
                    WorkflowIssue(
                        path: "stages[\(index)].next_stage",
                        message: "no stage has the code '\(next)'; known stages: \(definition.stages.map(\.code).joined(separator: ", "))"
                    )
                )
            }
        }
        let ordered = definition.orderedStages
        func successor(of stage: StageDefinition) -> String? {
            if let next = stage.nextStage { return definition.stage(next) == nil ? nil : next }
            guard let position = ordered.firstIndex(where: { $0.code == stage.code }), position + 1 < ordered.count else { return nil }
            return ordered[position + 1].code
        }
        var path: [String] = []
        var current: String? = ordered.first?.code
        while let code = current, let stage = definition.stage(code) {
            if let start = path.firstIndex(of: code) {
                let cycle = path[start...] + [code]
                let index = definition.stages.firstIndex { $0.code == path.last } ?? 0
                issues.append(
                    WorkflowIssue(
                        path: "stages[\(index)].next_stage",
                        message: "stages \(cycle.joined(separator: " → ")) form a cycle with no way to the end"
                    )
                )
                return path
            }
            path.append(code)
            current = successor(of: stage)
        }
        for (index, stage) in definition.stages.enumerated() where !path.contains(stage.code) {
            issues.append(WorkflowIssue(path: "stages[\(index)]", message: "stage '\(stage.code)' is never reached from the first stage"))
        }
        return path
    }

    // MARK: Stages

    private func checkStage(
        _ stage: StageDefinition,
        path: String,
        parameters: [String: JSONValue],
        earlier: Set<String>,
        issues: inout [WorkflowIssue]
    ) {
        switch stage.executionMode {
        case .ai:
            if stage.prompt == nil { issues.append(WorkflowIssue(path: "\(path).prompt", message: "an ai stage needs a prompt")) }
        case .system:
            if let action = stage.action {
                if !knownActions.contains(action) {
                    issues.append(
                        WorkflowIssue(
                            path: "\(path).action",
                            message: "unknown action '\(action)'; known: \(knownActions.sorted().joined(separator: ", "))"
                        )
                    )
                }
            } else {
                issues.append(WorkflowIssue(path: "\(path).action", message: "a system stage needs an action"))
            }
            if stage.action == BuiltInActions.httpPost {
                let url = stage.endpoint.flatMap(URL.init(string:))
                if url?.scheme != "https" && url?.scheme != "http" || url?.host == nil {
                    issues.append(
                        WorkflowIssue(path: "\(path).endpoint", message: "an http.post stage needs an http(s) URL to send to"))
                }
            }
        case .cliLoop:
            if let cli = stage.cli {
                if cli.command.trimmingCharacters(in: .whitespaces).isEmpty {
                    issues.append(WorkflowIssue(path: "\(path).cli.command", message: "must not be empty"))
                }
                if let iterations = cli.maxIterations, iterations < 1 {
                    issues.append(WorkflowIssue(path: "\(path).cli.max_iterations", message: "must be at least 1"))
                }
            } else {
                issues.append(WorkflowIssue(path: "\(path).cli", message: "a cli_loop stage needs a cli command"))
            }
        case .manual:
            break
        }
        if stage.needsApproval, stage.approvalType == nil {
            issues.append(
                WorkflowIssue(path: "\(path).approval_type", message: "a stage that requires approval needs design, content or final"))
        }
        if !stage.needsApproval, stage.approvalType != nil {
            issues.append(WorkflowIssue(path: "\(path).approval_type", message: "is set, but requires_approval is not true"))
        }
        if let reviewed = stage.reviewOf {
            if stage.executionMode != .manual || !stage.needsApproval {
                issues.append(
                    WorkflowIssue(path: "\(path).review_of", message: "only a manual stage that requires approval can review another stage")
                )
            }
            if definition.stage(reviewed) == nil {
                issues.append(WorkflowIssue(path: "\(path).review_of", message: "no stage has the code '\(reviewed)'"))
            } else if !earlier.contains(reviewed) {
                issues.append(WorkflowIssue(path: "\(path).review_of", message: "'\(reviewed)' does not run before this stage"))
            }
        }
        if let delay = stage.transitionDelay, delay < 0 {
            issues.append(WorkflowIssue(path: "\(path).transition_delay", message: "must be 0 or more seconds"))
        }
        if let schema = stage.outputSchema {
            _ = checkSchema(schema, path: "\(path).output_schema", issues: &issues)
        }
        if let condition = stage.transitionCondition {
            checkCondition(
                condition, path: "\(path).transition_condition", parameters: parameters, earlier: earlier.union([stage.code]),
                issues: &issues)
        }
        if let foreach = stage.foreach {
            checkForeach(foreach, path: "\(path).foreach", parameters: parameters, earlier: earlier, issues: &issues)
        }
        if let prompt = stage.prompt {
            checkPrompt(prompt, stage: stage, path: "\(path).prompt", parameters: parameters, earlier: earlier, issues: &issues)
        }
    }

    private func checkCondition(
        _ text: String, path: String, parameters: [String: JSONValue], earlier: Set<String>, issues: inout [WorkflowIssue]
    ) {
        let condition: Condition
        do {
            condition = try Condition(text)
        } catch {
            issues.append(WorkflowIssue(path: path, message: "does not parse: \(error)"))
            return
        }
        for (root, member) in condition.references {
            guard Self.conditionRoots.contains(root) else {
                issues.append(
                    WorkflowIssue(
                        path: path,
                        message: "unknown name '\(root)'; a condition can read \(Self.conditionRoots.sorted().joined(separator: ", "))")
                )
                continue
            }
            checkMember(root: root, member: member, path: path, parameters: parameters, earlier: earlier, issues: &issues)
        }
    }

    private func checkForeach(
        _ source: String, path: String, parameters: [String: JSONValue], earlier: Set<String>, issues: inout [WorkflowIssue]
    ) {
        let parts = source.split(separator: ".").map(String.init)
        guard parts.count >= 2, ["params", "outputs"].contains(parts[0]) else {
            issues.append(
                WorkflowIssue(
                    path: path,
                    message: "'\(source)' must be a path into params or outputs, such as params.chapters or outputs.outline.chapters"))
            return
        }
        checkMember(root: parts[0], member: parts[1], path: path, parameters: parameters, earlier: earlier, issues: &issues)
        if parts[0] == "params", let schema = parameters[parts[1]], parts.count == 2,
            !["array", "integer"].contains(schema["type"]?.stringValue ?? "")
        {
            issues.append(WorkflowIssue(path: path, message: "params.\(parts[1]) must be a list (or a count) to fan out over"))
        }
        if parts[0] == "outputs", let stage = definition.stage(parts[1]), let schema = stage.outputSchema {
            var current: JSONValue? = schema
            for key in parts.dropFirst(2) { current = current?["properties"]?[key] }
            if current == nil {
                issues.append(
                    WorkflowIssue(
                        path: path, message: "the output schema of '\(parts[1])' has no \(parts.dropFirst(2).joined(separator: "."))"))
            } else if parts.count > 2, current?["type"]?.stringValue != "array" {
                issues.append(WorkflowIssue(path: path, message: "'\(source)' is not a list in the output schema of '\(parts[1])'"))
            }
        }
    }

    private func checkPrompt(
        _ prompt: PromptDefinition,
        stage: StageDefinition,
        path: String,
        parameters: [String: JSONValue],
        earlier: Set<String>,
        issues: inout [WorkflowIssue]
    ) {
        let partials = prompt.partials ?? [:]
        let messages =
            [("system", prompt.system)].compactMap { name, text in text.map { (name, $0) } } + [("user", prompt.user)]
            + partials.sorted { $0.key < $1.key }.map { ("partials.\($0.key)", $0.value) }
        for (part, text) in messages {
            if let problem = PromptRenderer.check(text) {
                issues.append(WorkflowIssue(path: "\(path).\(part)", message: "does not parse: \(problem)"))
                continue
            }
            let references = PromptRenderer.references(in: text)
            for partial in references.partials where partials[partial] == nil {
                issues.append(WorkflowIssue(path: "\(path).\(part)", message: "includes the partial '\(partial)', which is not defined"))
            }
            if part.hasPrefix("partials."), let cycle = Self.inclusionCycle(from: String(part.dropFirst("partials.".count)), in: partials) {
                issues.append(
                    WorkflowIssue(
                        path: "\(path).\(part)", message: "includes itself (\(cycle.joined(separator: " → "))); a partial may not loop back"
                    ))
            }
            for variable in references.variables {
                let parts = variable.split(separator: ".").map(String.init)
                guard let root = parts.first, Self.promptRoots.contains(root) else {
                    issues.append(
                        WorkflowIssue(
                            path: "\(path).\(part)",
                            message:
                                "unknown variable '\(variable)'; a prompt can read \(Self.promptRoots.sorted().joined(separator: ", "))"
                        )
                    )
                    continue
                }
                if root == "item", stage.foreach == nil {
                    issues.append(WorkflowIssue(path: "\(path).\(part)", message: "reads '\(variable)', but the stage has no foreach"))
                }
                checkMember(
                    root: root, member: parts.dropFirst().first, path: "\(path).\(part)", parameters: parameters, earlier: earlier,
                    issues: &issues)
            }
        }
    }

    /// The partials `start` goes through to include itself again (directly or through others), or `nil`.
    static func inclusionCycle(from start: String, in partials: [String: String]) -> [String]? {
        var visited: Set<String> = []
        func walk(_ name: String, _ trail: [String]) -> [String]? {
            guard let text = partials[name] else { return nil }
            for included in PromptRenderer.references(in: text).partials {
                if included == start { return trail + [included] }
                guard visited.insert(included).inserted else { continue }
                if let cycle = walk(included, trail + [included]) { return cycle }
            }
            return nil
        }
        return walk(start, [start])
    }

    private func checkMember(
        root: String, member: String?, path: String, parameters: [String: JSONValue], earlier: Set<String>, issues: inout [WorkflowIssue]
    ) {
        guard let member else { return }
        switch root {
        case "params" where parameters[member] == nil:
            issues.append(
                WorkflowIssue(
                    path: path,
                    message:
                        "unknown parameter 'params.\(member)'; the params schema has \(parameters.keys.sorted().joined(separator: ", "))")
            )
        case "outputs" where definition.stage(member) == nil:
            issues.append(WorkflowIssue(path: path, message: "no stage '\(member)' for 'outputs.\(member)'"))
        case "outputs" where !earlier.contains(member):
            issues.append(WorkflowIssue(path: path, message: "'outputs.\(member)' is read before stage '\(member)' has run"))
        default:
            break
        }
    }

    private func checkSchema(_ document: JSONValue, path: String, issues: inout [WorkflowIssue]) -> JSONSchema? {
        do {
            return try JSONSchema(document)
        } catch {
            for violation in error.violations {
                let suffix = violation.pointer.split(separator: "/").map { ".\($0)" }.joined()
                issues.append(WorkflowIssue(path: path + suffix, message: violation.message))
            }
            return nil
        }
    }

    private static func isCode(_ text: String) -> Bool {
        codePattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
