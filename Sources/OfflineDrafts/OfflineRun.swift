import Contracts
import Foundation
import WorkflowKit

/// A workflow played through offline, stage by stage: each `ai` stage's prompt rendered as the engine renders it
/// (params, earlier outputs, the item of a fan-out) and answered by the offline writer; manual and system stages are
/// passed over. What the deliverables are then built from, for the benchmark and the tests.
public enum OfflineRun {
    /// Every `ai` stage's output (a list for a fan-out), from `params` merged over the workflow's defaults.
    public static func outputs(of definition: WorkflowDefinition, params: [String: JSONValue]) throws -> [String: JSONValue] {
        let params = definition.parameters(params)
        var outputs: [String: JSONValue] = [:]
        for stage in definition.stages where stage.executionMode == .ai {
            guard let prompt = stage.prompt, let schema = stage.outputSchema else { continue }
            var context: [String: JSONValue] = [
                "params": .object(params), "outputs": .object(outputs),
                "project": ["id": "offline", "name": .string(definition.name), "template": .string(definition.code)],
                "stage": ["code": .string(stage.code), "name": .string(stage.name)], "attempt": 1,
            ]
            func answer() throws -> JSONValue {
                let rendered = try PromptRenderer.render(prompt, context: .object(context))
                var writer = DraftWriter(prompt: rendered.user)
                return writer.instance(of: schema, name: "answer")
            }
            if let path = stage.foreach {
                let items = value(at: path, in: .object(["params": .object(params), "outputs": .object(outputs)]))?.arrayValue ?? []
                var results: [JSONValue] = []
                for item in items {
                    context["item"] = item
                    results.append(try answer())
                }
                outputs[stage.code] = .array(results)
            } else {
                outputs[stage.code] = try answer()
            }
        }
        return outputs
    }

    static func value(at path: String, in root: JSONValue) -> JSONValue? {
        path.split(separator: ".").reduce(Optional(root)) { value, key in value?[String(key)] }
    }
}
