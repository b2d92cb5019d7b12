import AMQPClient
import Contracts
import Foundation
import GRDB
import WorkflowKit

/// The task path of `ai` stages: a prompt rendered and sent, a result checked against the stage's output contract,
/// repaired or retried within bounds.
extension ProjectWork {
    /// Sends pending tasks of the current stage at once, up to the project's share of tasks in flight: a result
    /// frees a place and the next task takes it in the same transaction, without waiting for a dispatch pass. The
    /// pass still serves projects in turn, so no project takes more than its share.
    func dispatchReady() throws {
        guard project.state == .running, let runID = project.stageRunID else { return }
        let inFlight = try TaskRecord.inFlight().filter(Column("projectID") == project.id).fetchCount(db)
        let room = settings.tasksInFlightPerProject - inFlight
        guard room > 0 else { return }
        let ready = try TaskRecord.filter(
            Column("stageRunID") == runID && Column("state") == TaskState.pending.rawValue
                && (Column("notBefore") == nil || Column("notBefore") <= now)
        ).order(Column("position")).limit(room).fetchAll(db)
        try sendingBatch {
            for task in ready where project.state == .running { try dispatch(task) }
        }
        if !ready.isEmpty { update { $0.lastDispatchAt = now } }
    }

    /// Renders the task's prompt and sends `GenerateContent` with a new request id (the task's next attempt).
    func dispatch(_ task: TaskRecord) throws {
        var task = task
        guard let stage = definition.stage(task.stage), let prompt = stage.prompt else {
            return try failTask(&task, "stage '\(task.stage)' has no prompt")
        }
        let readsOutputs = ([prompt.user, prompt.system ?? ""] + (prompt.partials.map { Array($0.values) } ?? [])).contains {
            $0.contains("outputs")
        }
        var context = try self.context(stage: stage, withOutputs: readsOutputs)
        if let item = task.item { context["item"] = item.value }
        if let feedback = task.feedback { context["feedback"] = .string(feedback) }
        context["attempt"] = .number(Double(task.attempts + 1))
        let rendered: RenderedPrompt
        do {
            rendered = try PromptRenderer.render(prompt, context: .object(context))
        } catch {
            return try failTask(&task, "its prompt could not be rendered: \(error)")
        }
        var user = rendered.user
        if !task.validationErrors.isEmpty {
            user +=
                "\n\nYour previous answer did not match the required format. Fix these problems and answer again:\n"
                + task.validationErrors.map { "- \($0)" }.joined(separator: "\n")
        }
        var maxTokens: Int?
        if let budget = project.budget {
            let (provider, model) = definition.generator(of: stage)
            guard let prices else { return }  // asked for in the background; the task waits for the next pass
            guard let price = prices.price(provider: provider, model: model) else {
                return try pauseForBudget(
                    "no price is known for model \(model ?? "default") of provider \(provider ?? "default"), so the budget cannot be kept")
            }
            let most = price.mostCost(promptCharacters: user.count + (rendered.system?.count ?? 0), maxTokens: price.maxOutputTokens)
            guard project.cost + project.reserved + most <= budget else {
                return try pauseForBudget(
                    String(
                        format:
                            "the next task may cost up to $%.4f; spent $%.4f, in flight up to $%.4f, budget $%.4f. Resume with a larger budget",
                        most, project.cost, project.reserved, budget))
            }
            maxTokens = price.maxOutputTokens
            task.reservedCost = most
            update { $0.reserved += most }
        }
        task.attempts += 1
        // A new id for every new generation: the provider gateway answers a repeated id from its ledger.
        task.requestID = "\(task.id).\(task.attempts).\(task.failedSends)"
        task.state = .queued
        task.system = rendered.system
        task.prompt = user
        task.leaseUntil = now.addingTimeInterval(settings.lease)
        task.notBefore = nil
        task.updatedAt = now
        try task.update(db)
        var request = request(for: task, stage: stage)
        request.maxTokens = maxTokens
        try send(request, idempotencyKey: task.requestID ?? task.id)
        try log("task.queued", "\(task.title): generating (attempt \(task.attempts))", stage: task.stage, taskID: task.id)
    }

    /// Stops sending: the project waits, paused, for a larger budget.
    private func pauseForBudget(_ message: String) throws {
        update {
            $0.state = .paused
            $0.reason = .budget
            $0.message = message
        }
        try log("project.paused", message)
    }

    /// Gives back what a task in flight had reserved.
    private func release(_ task: inout TaskRecord) {
        guard task.reservedCost > 0 else { return }
        let reserved = task.reservedCost
        update { $0.reserved = max(0, $0.reserved - reserved) }
        task.reservedCost = 0
    }

    /// A sent task whose lease ran out: the same request again (the provider gateway answers a repeat from its
    /// ledger, so this never pays twice), or a failure after too many.
    func renewLease(_ task: TaskRecord) throws {
        var task = task
        guard let stage = definition.stage(task.stage) else { return }
        task.failedSends += 1
        guard task.failedSends <= settings.maximumLeaseRenewals else {
            try failTask(&task, "no answer from the provider gateway after \(task.failedSends) sends; is ProviderGateway running?")
            return try stageProgressed()
        }
        task.leaseUntil = now.addingTimeInterval(settings.lease)
        task.updatedAt = now
        try task.update(db)
        try send(request(for: task, stage: stage), idempotencyKey: task.requestID ?? task.id)
        try log("task.resent", "\(task.title): no answer yet; asked again", stage: task.stage, taskID: task.id)
    }

    private func request(for task: TaskRecord, stage: StageDefinition) -> GenerateContent {
        let (provider, model) = definition.generator(of: stage)
        return GenerateContent(
            requestID: task.requestID ?? task.id, provider: provider, model: model, system: task.system, user: task.prompt ?? "",
            responseSchema: stage.outputSchema,
            streamTo: settings.streamTo)
    }

    /// The provider began writing `task`'s answer: it is `processing`, and the log says so once per generation.
    func streaming(_ task: TaskRecord) throws {
        guard task.state == .queued else { return }
        var task = task
        task.state = .processing
        task.updatedAt = now
        try task.update(db)
        try log("task.streaming", "\(task.title): the provider is writing", stage: task.stage, taskID: task.id)
    }

    /// A result for `task` (already matched by request id).
    func generated(_ result: ContentGenerated, task: TaskRecord) throws {
        var task = task
        task.provider = result.provider
        task.model = result.model
        task.tokensIn += result.tokensIn
        task.tokensOut += result.tokensOut
        task.cost += result.cost
        task.latencyMilliseconds = result.latencyMilliseconds
        task.leaseUntil = nil
        task.failedSends = 0
        task.updatedAt = now
        release(&task)
        update { $0.cost += result.cost }
        let stage = definition.stage(task.stage)
        let (content, problems) = Self.check(result.content, against: stage?.outputSchema)
        if problems.isEmpty {
            task.state = .done
            task.content = content
            task.error = nil
            task.validationErrors = []
            try task.update(db)
            try log("task.completed", "\(task.title): done", stage: task.stage, taskID: task.id)
        } else if task.attempts < settings.maximumAttempts {
            task.state = .pending
            task.validationErrors = problems
            try task.update(db)
            try log(
                "task.repairing", "\(task.title): the answer broke its format (\(problems.count) problem(s)); generating again",
                stage: task.stage, taskID: task.id)
        } else {
            task.validationErrors = problems
            task.content = result.content
            try failTask(
                &task, "the answer still broke its format after \(task.attempts) attempts: \(problems.prefix(5).joined(separator: "; "))")
        }
        try stageProgressed()
        try dispatchReady()
    }

    func generationFailed(_ failure: GenerationFailed, task: TaskRecord) throws {
        var task = task
        task.leaseUntil = nil
        task.updatedAt = now
        task.failedSends += 1
        release(&task)
        if failure.retryable, task.failedSends < settings.maximumFailedSends {
            // Sent again with a new request id once the backoff passed: a durable row, so a restart keeps it.
            task.state = .pending
            task.attempts -= 1
            task.notBefore = now.addingTimeInterval(settings.retryBackoff.delay(after: task.failedSends).seconds)
            needsPass = true
            task.error = "\(failure.kind): \(failure.message)"
            try task.update(db)
            try log(
                "task.retrying", "\(task.title): \(failure.kind) from the provider; trying again shortly", stage: task.stage,
                taskID: task.id)
        } else {
            try failTask(&task, "\(failure.kind): \(failure.message)")
        }
        try stageProgressed()
    }

    private func failTask(_ task: inout TaskRecord, _ error: String) throws {
        release(&task)
        task.state = .failed
        task.error = error
        task.leaseUntil = nil
        task.updatedAt = now
        try task.update(db)
        try log("task.failed", "\(task.title) failed: \(error)", stage: task.stage, taskID: task.id)
    }

    /// The content to keep, and what is wrong with it. With a schema the answer must be JSON matching it (a fenced
    /// code block around it is taken off); the kept content is the JSON itself.
    static func check(_ content: String, against schema: JSONValue?) -> (String, [String]) {
        guard let schema else { return (content, []) }
        let text = unfenced(content)
        guard let value = try? JSONValue.parse(Data(text.utf8)) else {
            return (content, ["the answer is not valid JSON"])
        }
        guard let validator = try? JSONSchema(schema) else { return (text, []) }
        return (text, validator.validate(value).map(\.description))
    }

    private static func unfenced(_ content: String) -> String {
        var text = content.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("```") else { return text }
        if let firstLine = text.firstIndex(of: "\n") { text = String(text[text.index(after: firstLine)...]) }
        if text.hasSuffix("```") { text = String(text.dropLast(3)) }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
