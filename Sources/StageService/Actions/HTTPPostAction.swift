import Contracts
import Foundation
import RuntimeSupport
import SignedHTTP
import WorkflowKit

/// `http.post`: sends the stage's context as JSON to the stage's `endpoint` and takes the JSON answer, checked
/// against the stage's `output_schema`, as the stage's output. A custom workflow reaches its own service this way
/// without new Swift code.
///
/// Only URLs that start with a prefix the operator allow-listed are called. Posts are signed like the approval
/// webhooks; the delivery id is the stage run's, so a post repeated after a crash can be recognised. An answer that
/// did not come, a server error or 429 is tried again (`attempts` in all, with a backoff); any other refusal fails the
/// stage at once.
struct HTTPPostAction: SystemAction {
    let poster: SignedPoster?
    /// URL prefixes an operator allowed (`AIWF_HTTP_POST_ALLOW`).
    let allowed: [String]
    var attempts = 3
    var backoff = Backoff(initial: .seconds(1), maximum: .seconds(10))

    func run(_ input: ActionInput) async throws -> ActionOutput {
        guard let endpoint = input.stage.endpoint else { throw ActionError("stage '\(input.stage.code)' names no endpoint") }
        guard let poster, allowed.contains(where: { endpoint.hasPrefix($0) }) else {
            throw ActionError(
                "\(endpoint) is not allow-listed for http.post; an operator adds its prefix to AIWF_HTTP_POST_ALLOW (and sets AIWF_HTTP_POST_SECRET)"
            )
        }
        let body: JSONValue = [
            "project": ["id": .string(input.projectID), "name": .string(input.projectName)],
            "stage": ["code": .string(input.stage.code), "name": .string(input.stage.name), "run": .string(input.stageRunID)],
            "params": .object(input.params), "outputs": .object(input.outputs),
        ]
        var attempt = 0
        while true {
            attempt += 1
            do {
                let answer = try await poster.send(
                    to: endpoint, event: "stage.http-post", delivery: input.stageRunID, body: Data(body.jsonString().utf8))
                return ActionOutput(output: try Self.output(answer, stage: input.stage, endpoint: endpoint))
            } catch let error as SignedPostError where error.isRetryable && attempt < attempts {
                try await Task.sleep(for: backoff.delay(after: attempt))
            }
        }
    }

    static func output(_ answer: Data, stage: StageDefinition, endpoint: String) throws -> JSONValue {
        guard let value = try? JSONValue.parse(answer) else { throw ActionError("\(endpoint) did not answer with JSON") }
        if let schema = stage.outputSchema {
            let problems = try JSONSchema(schema).validate(value)
            guard problems.isEmpty else {
                throw ActionError(
                    "the answer of \(endpoint) does not match the stage's output_schema: \(problems.prefix(5).map(\.description).joined(separator: "; "))"
                )
            }
        }
        return value
    }
}
