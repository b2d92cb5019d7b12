import Contracts
import Foundation
import Testing

@testable import WorkflowKit

/// The folder of the built-in workflows in this checkout.
let workflowsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Workflows")

@Suite struct BuiltInWorkflowTests {
    @Test(arguments: ["website", "ebook", "course", "survey", "video"])
    func loadsAndValidates(code: String) throws {
        let loaded = try WorkflowLoader.load(directory: workflowsDirectory.appendingPathComponent(code))
        let definition = loaded.definition
        #expect(definition.code == code)
        #expect(definition.stages.contains { $0.needsApproval })
        for stage in definition.stages where stage.executionMode == .ai {
            #expect(stage.outputSchema != nil, "\(code).\(stage.code) has no output schema")
            #expect(stage.prompt?.system?.isEmpty == false, "\(code).\(stage.code) has no system prompt")
        }
    }

    @Test func websiteHasNineStagesAndTwoGates() throws {
        let website = try WorkflowLoader.load(directory: workflowsDirectory.appendingPathComponent("website")).definition
        #expect(website.stages.count == 9)
        #expect(website.stages.filter(\.needsApproval).map(\.approvalType) == [.design, .content])
        #expect(website.stage("page_content")?.foreach == "outputs.sitemap.pages")
        let pageCount = try #require(website.paramsSchema["properties"]?["page_count"])
        #expect(pageCount["minimum"] == 1 && pageCount["maximum"] == 10)
    }

    @Test func everyAIStagePromptRendersWithRealisticContext() throws {
        let website = try WorkflowLoader.load(directory: workflowsDirectory.appendingPathComponent("website")).definition
        let context: JSONValue = [
            "params": [
                "company_name": "Harbour Dental", "industry": "dental clinic", "website_type": "business", "page_count": 3,
                "target_audience": "families nearby", "description": "A family dental practice.", "theme_style": "modern",
            ],
            "outputs": [
                "analysis": [
                    "summary": "A practice.", "value_proposition": "Calm care.", "goals": ["book"], "keywords": ["dentist"],
                    "tone_of_voice": "Warm", "audience": [["segment": "parents", "needs": ["weekend slots"]]],
                ]
            ],
            "item": ["slug": "services", "title": "Services", "purpose": "Explain treatments", "sections": ["Hero", "List"]],
        ]
        let page = try #require(website.stage("page_content")?.prompt)
        let rendered = try PromptRenderer.render(page, context: context)
        #expect(rendered.user.contains("Services (slug \"services\")"))
        #expect(rendered.user.contains("- Hero"))
        #expect(!rendered.user.contains("{{"))
        #expect(!rendered.user.contains("&quot;"), "prompts are text, not HTML")
        #expect(!rendered.user.contains("asked for these changes"), "no feedback section without feedback")
        var withFeedback = context
        if case .object(var members) = withFeedback {
            members["feedback"] = "Shorter, please."
            withFeedback = .object(members)
        }
        #expect(try PromptRenderer.render(page, context: withFeedback).user.contains("Shorter, please."))
    }
}

@Suite struct BrokenWorkflowTests {
    private static let valid = """
        code: tiny
        name: Tiny
        description: A small workflow for tests.
        params_schema:
          type: object
          properties:
            topic: {type: string}
            items: {type: array, items: {type: string}}
        stages:
          - code: draft
            name: Draft
            sequence: 10
            execution_mode: ai
            prompt:
              user: "Write about {{params.topic}}"
            output_schema: {type: object, properties: {text: {type: string}}}
          - code: review
            name: Review
            sequence: 20
            execution_mode: manual
            requires_approval: true
            approval_type: content
            review_of: draft
        """

    @Test func theValidBaseLoads() throws {
        #expect(try WorkflowLoader.load(yaml: Self.valid).definition.stages.count == 2)
    }

    @Test(arguments: [
        (
            "    execution_mode: manual\n    requires_approval", "    execution_mode: manual\n    next_stage: draft\n    requires_approval",
            "cycle", "stages[1].next_stage"
        ),
        (
            "    execution_mode: manual\n    requires_approval",
            "    execution_mode: manual\n    next_stage: nowhere\n    requires_approval",
            "no stage has the code 'nowhere'", "stages[1].next_stage"
        ),
        ("{{params.topic}}", "{{params.colour}}", "unknown parameter 'params.colour'", "stages[0].prompt.user"),
        ("{{params.topic}}", "{{secrets}}", "unknown variable 'secrets'", "stages[0].prompt.user"),
        ("{type: string}}}", "{type: strin}}}", "unknown type", "stages[0].output_schema.properties.text.type"),
        (
            "approval_type: content", "approval_type: content\n    transition_condition: count(tasks >= 1",
            "does not parse", "stages[1].transition_condition"
        ),
        (
            "approval_type: content", "approval_type: content\n    transition_condition: outputs.later == 1",
            "no stage 'later'", "stages[1].transition_condition"
        ),
        ("execution_mode: ai\n", "execution_mode: ai\n    foreach: params.topic\n", "must be a list", "stages[0].foreach"),
        ("    execution_mode: manual\n", "    execution_mode: system\n    action: rm.rf\n", "unknown action 'rm.rf'", "stages[1].action"),
        (
            "    execution_mode: manual\n", "    execution_mode: magic\n",
            "must be one of ai, manual, system, cli_loop; got 'magic'", "stages[1].execution_mode"
        ),
        (
            "approval_type: content", "approval_type: contents", "must be one of design, content, final; got 'contents'",
            "stages[1].approval_type"
        ),
    ])
    func isRefusedWithAMessageThatNamesTheProblem(find: String, replace: String, message: String, path: String) throws {
        let broken = Self.valid.replacingOccurrences(of: find, with: replace)
        #expect(broken != Self.valid, "the test's edit did not apply")
        let error = #expect(throws: WorkflowError.self) { try WorkflowLoader.load(yaml: broken, file: "tiny.yaml") }
        let issue = try #require(error?.issues.first { $0.message.contains(message) }, "issues: \(String(describing: error))")
        #expect(issue.path == path)
        #expect(issue.line != nil)
        #expect(error?.description.contains("tiny.yaml:") == true)
    }

    @Test func aMissingFieldAndAWrongTypeNameTheFieldAndLine() throws {
        let missing = Self.valid.replacingOccurrences(of: "    name: Review\n", with: "")
        let error = #expect(throws: WorkflowError.self) { try WorkflowLoader.load(yaml: missing) }
        #expect(error?.issues.first?.path == "stages[1].name")
        #expect(error?.issues.first?.message == "is required")
        #expect(error?.issues.first?.line == 17)

        let wrongType = Self.valid.replacingOccurrences(of: "sequence: 20", with: "sequence: twenty")
        let typeError = #expect(throws: WorkflowError.self) { try WorkflowLoader.load(yaml: wrongType) }
        #expect(typeError?.issues.first?.path == "stages[1].sequence")
        #expect(typeError?.issues.first?.line == 19)
    }

    @Test func anUploadCannotReadFiles() throws {
        let withFile = Self.valid.replacingOccurrences(of: "user: \"Write about {{params.topic}}\"", with: "user_file: /etc/passwd")
        let error = #expect(throws: WorkflowError.self) { try WorkflowLoader.load(yaml: withFile) }
        #expect(error?.issues.first?.message.contains("cannot refer to files") == true)
    }
}
