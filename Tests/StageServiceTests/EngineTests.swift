import Contracts
import Foundation
import GRDB
import Testing
import WorkflowKit

@testable import StageService

let websiteParams: [String: JSONValue] = [
    "company_name": "Acme Bakery", "industry": "bakery", "website_type": "business", "page_count": 3,
    "target_audience": "families nearby", "description": "A neighbourhood bakery that sells bread and cakes every day.",
]

/// A small custom workflow: one `ai` stage with a contract, a manual stage, a system stage.
func customWorkflow(_ extra: String = "", aiStage: String = "") throws -> WorkflowDefinition {
    let item = aiStage.contains("foreach") ? "{{#item}} - {{item}}{{/item}}" : ""
    let yaml = """
        code: custom
        name: Custom
        description: A test workflow.
        params_schema:
          type: object
          required: [topic]
          properties:
            topic: {type: string, minLength: 2}
            items: {type: array, items: {type: string}}
        stages:
          - code: draft
            name: Draft
            sequence: 10
            execution_mode: ai
            auto_advance: true
            \(aiStage)
            prompt:
              user: "Write about {{params.topic}}\(item).{{#feedback}} Feedback: {{feedback}}{{/feedback}}"
            output_schema:
              type: object
              required: [title]
              properties:
                title: {type: string, minLength: 1}
        \(extra)
        """
    return try WorkflowLoader.load(yaml: yaml).definition
}

@Suite("Engine", .timeLimit(.minutes(4)))
struct EngineTests {
    static let editedPage =
        #"{"slug":"edited","title":"Edited by the reviewer","meta_description":"Edited.","sections":[{"heading":"Edited","body":"The reviewer's words."}]}"#

    @Test func aWebsiteRunsToDoneThroughItsApprovalsAndOnlyUnapprovedPagesAreWrittenAgain() async throws {
        let bed = try await EngineBed()
        defer { bed.stop() }
        let created = try await bed.create("website", params: websiteParams)
        #expect(created.state == .running)

        var detail = try await bed.run(created.id, until: .approvalPending)
        #expect(detail.project.stage == "design_review")
        #expect(try await bed.run { bed.approvalRequests.count == 1 })
        #expect(bed.approvalRequests.first?.items.count == 1, "the design review covers the design stage's output")
        try await bed.decide(.approve)

        detail =
            try await bed.run { try await bed.project(created.id).project.stage == "content_review" }
            ? try await bed.project(created.id) : detail
        #expect(detail.project.stage == "content_review")
        #expect(try await bed.run { bed.approvalRequests.count == 2 })
        let pages = try #require(bed.approvalRequests.last).items
        try #require(pages.count == 3, "one page per sitemap entry (the local answer lists three)")
        let requestsBefore = bed.sentRequests.count
        let pagePrompts = bed.sentRequests.filter { $0.user.contains("Page: ") }.map(\.user)
        #expect(pagePrompts.count == 3 && pagePrompts.allSatisfy { !$0.contains("Page:  (slug") }, "each page's prompt names its page")

        // Changes to the second page only; the others are approved.
        try await bed.decide(
            .requestChanges, feedback: "shorter",
            items: [
                ItemOutcome(itemID: pages[0].id, approved: true, feedback: nil, contentHash: pages[0].contentHash, editedContent: nil),
                ItemOutcome(
                    itemID: pages[1].id, approved: false, feedback: "Mention the sourdough", contentHash: pages[1].contentHash,
                    editedContent: nil),
                ItemOutcome(itemID: pages[2].id, approved: true, feedback: nil, contentHash: pages[2].contentHash, editedContent: nil),
            ])
        #expect(try await bed.run { bed.approvalRequests.count == 3 })
        let regenerated = Array(bed.sentRequests.dropFirst(requestsBefore))
        #expect(regenerated.count == 1, "only the page with changes is generated again")
        #expect(regenerated.first?.user.contains("Mention the sourdough") == true, "with its feedback in the prompt")

        // Approved with an edit: the reviewer's text becomes the content.
        let second = try #require(bed.approvalRequests.last).items
        try #require(!second.isEmpty)
        try await bed.decide(
            .approve,
            items: [
                ItemOutcome(
                    itemID: second[0].id, approved: true, feedback: nil, contentHash: second[0].contentHash,
                    editedContent: Self.editedPage)
            ])
        detail = try await bed.run(created.id, until: .done)
        #expect(detail.project.state == .done)
        #expect(detail.project.progress == 100)
        #expect(detail.tasks.contains { $0.content == Self.editedPage })

        // The operator's usage per day counts every part written, by provider and model; only for admins.
        let usage = try await bed.engine.usage(GetUsageByDay(days: 1), actor: Actor(userID: "root", roles: ["admin"]))
        let written = detail.tasks.filter { $0.state == .done && $0.provider != nil }
        #expect(usage.map(\.tasks).reduce(0, +) == written.count && !written.isEmpty, "\(usage)")
        #expect(usage.map(\.tokensOut).reduce(0, +) == written.map(\.tokensOut).reduce(0, +))
        await #expect(throws: (any Error).self) { _ = try await bed.engine.usage(GetUsageByDay(days: 1), actor: owner) }
        let names = detail.artifacts.map(\.name)
        #expect(names.contains("site.zip") && names.contains("site/index.html") && names.contains("site/sitemap.xml"), "\(names)")
        // The edited page came first and has no home slug: it is the home page.
        let edited = try #require(detail.artifacts.first { $0.name == "site/index.html" })
        let page = try await bed.engine.read(ReadArtifact(projectID: created.id, artifactID: edited.id), actor: owner)
        #expect(
            String(decoding: page.data, as: UTF8.self).contains("<h1>Edited by the reviewer</h1>"),
            "the site is built from the approved edit")
        #expect(
            detail.tasks.first { $0.stage == "publish" }?.content?.contains("http://localhost:8080/sites/") == true,
            "the publish stage says where the site is")
        let events = try await bed.engine.events(GetProjectEvents(projectID: created.id), actor: owner)
        #expect(events.map(\.sequence) == Array(1...events.count), "the log is ordered without gaps")
        #expect(events.last?.kind == "project.completed")
    }

    @Test func anAnswerThatBreaksItsContractIsRegeneratedWithTheErrorsThenFails() async throws {
        let templates = FixedTemplates(extra: ["custom": try customWorkflow()])
        let bed = try await EngineBed(templates: templates) { request, index in
            index == 0 ? .content(#"{"wrong": 1}"#) : .content(LocalAnswers.answer(request))
        }
        defer { bed.stop() }
        let project = try await bed.create("custom", params: ["topic": "bread"])
        let detail = try await bed.run(project.id, until: .done)
        #expect(detail.tasks.first?.attempts == 2)
        #expect(bed.sentRequests.dropFirst().first?.user.contains("/title") == true, "the second prompt names what was wrong")

        let failing = try await EngineBed(templates: templates) { _, _ in .content("not json") }
        defer { failing.stop() }
        let doomed = try await failing.create("custom", params: ["topic": "bread"])
        let failed = try await failing.run(doomed.id, until: .failed)
        #expect(failed.tasks.first?.attempts == 3)
        #expect(failed.tasks.first?.error?.contains("still broke its format after 3 attempts") == true)
        #expect(failed.project.reason == .error)
    }

    @Test func anAnswerIsPassedOnPieceByPieceAsItIsWrittenAndTheTaskShowsItIsStreaming() async throws {
        let bed = try await EngineBed(templates: FixedTemplates(extra: ["custom": try customWorkflow()])) { request, _ in
            let answer = LocalAnswers.answer(request)
            let middle = answer.index(answer.startIndex, offsetBy: answer.count / 2)
            return .streamed([String(answer[..<middle]), String(answer[middle...])])
        }
        defer { bed.stop() }
        let project = try await bed.create("custom", params: ["topic": "bread"])
        let done = try await bed.run(project.id, until: .done)
        let task = try #require(done.tasks.first)
        #expect(bed.sentRequests.first?.streamTo == StageService.chunksQueue)
        let pieces = bed.streamedTexts.filter { $0.taskID == task.id }
        #expect(pieces.map(\.index) == [0, 1])
        #expect(pieces.map(\.text).joined() == task.content)
        #expect(pieces.allSatisfy { $0.projectID == project.id && $0.ownerID == owner.userID })
        let events = try await bed.engine.events(GetProjectEvents(projectID: project.id, after: 0, limit: 500), actor: owner)
        #expect(events.filter { $0.kind == "task.streaming" && $0.taskID == task.id }.count == 1)
        let deadLetters = try await bed.bus.messageCount(queue: StageService.chunksQueue + ".dead")
        #expect(deadLetters == 0, "the result that ends a stream is taken, not dead-lettered")
    }

    @Test func aRetryableFailureWaitsItsBackoffOnTheClockAndAFinalOneFailsTheProjectUntilRetried() async throws {
        let templates = FixedTemplates(extra: ["custom": try customWorkflow()])
        let bed = try await EngineBed(templates: templates) { request, index in
            switch index {
            case 0: .failure(kind: "overloaded", retryable: true)
            case 1: .failure(kind: "auth", retryable: false)
            default: .content(LocalAnswers.answer(request))
            }
        }
        defer { bed.stop() }
        let project = try await bed.create("custom", params: ["topic": "bread"])
        #expect(try await bed.run { bed.sentRequests.count == 1 })
        #expect(try await bed.run { try await bed.project(project.id).tasks.first?.error?.hasPrefix("overloaded") == true })
        #expect(bed.sentRequests.count == 1, "not sent again before its backoff")
        bed.advanceClock(by: 600)
        let failed = try await bed.run(project.id, until: .failed)
        #expect(failed.project.message?.contains("auth") == true)
        let ids = bed.sentRequests.map(\.requestID)
        #expect(ids.count == 2 && ids[0] != ids[1], "a new attempt, a new request id: \(ids)")

        _ = try await bed.engine.change(ChangeProject(projectID: project.id, action: .retry), actor: owner)
        #expect(try await bed.run(project.id, until: .done).project.state == .done)
    }

    @Test func resultsThatArriveWhilePausedAreKeptAndNothingNewIsSentUntilResumed() async throws {
        let templates = FixedTemplates(extra: ["custom": try customWorkflow(aiStage: "foreach: params.items")])
        let bed = try await EngineBed(
            templates: templates,
            settings: {
                var s = EngineSettings()
                s.tasksInFlightPerProject = 1
                return s
            }())
        defer { bed.stop() }
        let project = try await bed.create("custom", params: ["topic": "bread", "items": ["a", "b", "c"]])
        try await bed.engine.pass()  // the first task is sent
        _ = try await bed.engine.change(ChangeProject(projectID: project.id, action: .pause), actor: owner)
        try await bed.service.outbox.relayPending()
        #expect(try await bed.run { try await bed.project(project.id).tasks.filter { $0.state == .done }.count == 1 })
        let paused = try await bed.project(project.id)
        #expect(paused.project.state == .paused)
        #expect(bed.sentRequests.count == 1, "nothing new while paused")

        _ = try await bed.engine.change(ChangeProject(projectID: project.id, action: .resume), actor: owner)
        let done = try await bed.run(project.id, until: .done)
        #expect(done.tasks.count == 3)
        #expect(bed.sentRequests.count == 3)
    }

    @Test func aSentTaskWhoseLeaseRunsOutIsSentAgainWithTheSameRequestID() async throws {
        let templates = FixedTemplates(extra: ["custom": try customWorkflow()])
        let bed = try await EngineBed(templates: templates) { request, index in
            index == 0 ? .silence : .content(LocalAnswers.answer(request))
        }
        defer { bed.stop() }
        let project = try await bed.create("custom", params: ["topic": "bread"])
        #expect(try await bed.run { bed.sentRequests.count == 1 })
        bed.advanceClock(by: EngineSettings().lease + 1)
        let done = try await bed.run(project.id, until: .done)
        let ids = bed.sentRequests.map(\.requestID)
        #expect(ids.count == 2 && ids[0] == ids[1], "the same request id again: \(ids)")
        #expect(done.tasks.first?.attempts == 1, "the same attempt, asked again")
    }

    @Test func smallProjectsFinishBeforeABigOneIsHalfDone() async throws {
        let templates = FixedTemplates(extra: ["custom": try customWorkflow(aiStage: "foreach: params.items")])
        let bed = try await EngineBed(templates: templates)
        defer { bed.stop() }
        let big = try await bed.create("custom", params: ["topic": "big", "items": .array((1...100).map { .string("item \($0)") })])
        var small: [String] = []
        for index in 1...10 {
            small.append(try await bed.create("custom", params: ["topic": .string("small \(index)"), "items": ["only"]]).id)
        }
        #expect(
            try await bed.run {
                for id in small where try await bed.project(id).project.state != .done { return false }
                return true
            })
        let bigTasks = try await bed.project(big.id).tasks
        #expect(bigTasks.filter { $0.state == .done }.count < 50, "the small ones did not wait for the big one")
        #expect(try await bed.run(big.id, until: .done).project.state == .done)
    }

    @Test func anAutomaticAdvanceWaitsItsDelayAndAManualStageWaitsForAdvance() async throws {
        let extra = """
              - code: wait
                name: Wait
                sequence: 20
                execution_mode: manual
              - code: finish
                name: Finish
                sequence: 30
                execution_mode: system
                action: test.echo
                auto_advance: true
            """
        let templates = FixedTemplates(extra: ["custom": try customWorkflow(extra, aiStage: "transition_delay: 60")])
        let bed = try await EngineBed(templates: templates)
        defer { bed.stop() }
        let project = try await bed.create("custom", params: ["topic": "bread"])
        #expect(try await bed.run { try await bed.project(project.id).project.waitingFor == .timer })
        try await bed.engine.pass(at: bed.now.addingTimeInterval(30))
        #expect(try await bed.project(project.id).project.stage == "draft", "not before its 60 s")
        bed.advanceClock(by: 61)
        #expect(try await bed.run { try await bed.project(project.id).project.waitingFor == .advance })
        #expect(try await bed.project(project.id).project.stage == "wait")
        await #expect(throws: StageError.self) {
            try await bed.engine.change(ChangeProject(projectID: project.id, action: .resume), actor: owner)
        }
        _ = try await bed.engine.change(ChangeProject(projectID: project.id, action: .advance), actor: owner)
        let done = try await bed.run(project.id, until: .done)
        #expect(done.tasks.last?.content?.contains("bread") == true, "the echo action saw the params")
    }

    @Test func rejectAndExpiryFailTheProjectWithTheirReason() async throws {
        let gate = """
              - code: review
                name: Review
                sequence: 20
                execution_mode: manual
                requires_approval: true
                approval_type: content
                review_of: draft
            """
        let templates = FixedTemplates(extra: ["custom": try customWorkflow(gate)])
        let bed = try await EngineBed(templates: templates)
        defer { bed.stop() }
        let rejected = try await bed.create("custom", params: ["topic": "bread"])
        _ = try await bed.run(rejected.id, until: .approvalPending)
        try await bed.decide(.reject, reason: "off brand")
        let failed = try await bed.run(rejected.id, until: .failed)
        #expect(failed.project.reason == .rejected)
        #expect(failed.project.message?.contains("off brand") == true)

        let expiring = try await bed.create("custom", params: ["topic": "cake"])
        _ = try await bed.run(expiring.id, until: .approvalPending)
        #expect(try await bed.run { bed.approvalRequests.count == 2 })
        let request = try #require(bed.approvalRequests.last)
        try await bed.bus.publish(
            ApprovalExpired(approvalID: "x", projectID: expiring.id, stageRunID: request.stageRunID, stage: "review", expiredAt: bed.now),
            context: .init())
        #expect(try await bed.run(expiring.id, until: .failed).project.reason == .expired)
    }

    /// Each task reserves the most it may cost before it is sent; the one that would pass the budget is not sent,
    /// and the project pauses with reason `budget` having spent no more than it.
    @Test func aProjectThatWouldExceedItsBudgetPausesAndGoesOnWithALargerOne() async throws {
        let templates = FixedTemplates(extra: ["custom": try customWorkflow(aiStage: "foreach: params.items")])
        // $1 per million tokens each way, at most 1,000 output tokens: a task may cost a little over $0.001.
        let prices = PriceList(
            defaultProvider: "local",
            providers: [
                ProviderPrices(
                    name: "local", defaultModel: "local-writer",
                    models: [ModelPrices(name: "local-writer", inputPerMillion: 1, outputPerMillion: 1, maxOutputTokens: 1000)])
            ])
        let settings = {
            var s = EngineSettings()
            s.tasksInFlightPerProject = 1
            return s
        }()
        let bed = try await EngineBed(templates: templates, prices: prices, settings: settings)
        defer { bed.stop() }
        let project = try await bed.create("custom", params: ["topic": "bread", "items": ["a", "b", "c"]], budget: 0.0025)
        let paused = try await bed.run(project.id, until: .paused)
        #expect(paused.project.reason == .budget)
        #expect(paused.project.message?.contains("budget") == true)
        #expect(bed.sentRequests.count == 2, "two fit the budget, the third would not")
        #expect(bed.sentRequests.allSatisfy { $0.maxTokens == 1000 }, "the answer is bounded by what was reserved")
        #expect(paused.project.cost <= 0.0025)

        let refused = await #expect(throws: StageError.self) {
            try await bed.engine.change(ChangeProject(projectID: project.id, action: .resume, budget: 0.0001), actor: owner)
        }
        #expect(refused?.code == "invalid")
        _ = try await bed.engine.change(ChangeProject(projectID: project.id, action: .resume, budget: 0.01), actor: owner)
        let done = try await bed.run(project.id, until: .done)
        #expect(done.tasks.count == 3)
        #expect(done.project.cost <= 0.01)
    }
}
