import Contracts
import Testing

@testable import WorkflowKit

@Suite struct ConditionTests {
    private let context: JSONValue = [
        "params": ["page_count": 3, "style": "modern"],
        "tasks": [["state": "done", "attempts": 1], ["state": "done", "attempts": 2], ["state": "failed", "attempts": 3]],
        "outputs": ["pages": ["a", "b", "c"], "sitemap": ["pages": [["slug": ""]]]],
        "project": ["ai_progress": 40],
    ]

    @Test(arguments: [
        ("count(outputs.pages) >= params.page_count", true),
        ("all(tasks, state == \"done\")", false),
        ("any(tasks, state == \"failed\") and count(tasks) == 3", true),
        ("not all(tasks, attempts < 3)", true),
        ("true or false and false", true),
        ("(true or false) and false", false),
        ("not true == false", true),
        ("params.style in [\"modern\", \"minimal\"]", true),
        ("tasks[2].state == 'failed'", true),
        ("outputs.sitemap.pages[0].slug == \"\"", true),
        ("project.ai_progress + 60 == 100", true),
        ("-params.page_count < 0", true),
        ("params.missing == null", true),
        ("params.missing > 3", false),
        ("count(params.missing) == 0", true),
        ("all(outputs.pages, item != \"z\")", true),
    ])
    func evaluates(source: String, expected: Bool) throws {
        #expect(try Condition(source).evaluate(context) == expected)
    }

    @Test(arguments: [
        ("count(tasks", "expected ')'"),
        ("a = 1", "use '=='"),
        ("a && b", "use 'and'"),
        ("launch(rockets)", "unknown function 'launch'"),
        ("all(tasks)", "takes a list and a predicate"),
        ("'open", "never closed"),
        ("1 2", "after a complete condition"),
        ("a.", "expected a name after '.'"),
    ])
    func parseErrorsSayWhatIsWrongAndWhere(source: String, message: String) {
        let error = #expect(throws: ConditionError.self) { try Condition(source) }
        #expect(error?.message.contains(message) == true, "got \(String(describing: error))")
        #expect(error?.column != nil)
    }

    @Test func typeErrorsAreErrorsNotCrashes() {
        #expect(throws: ConditionError.self) { try Condition("params.style > 3").evaluate(context) }
        #expect(throws: ConditionError.self) { try Condition("params.page_count and true").evaluate(context) }
        #expect(throws: ConditionError.self) { try Condition("params.page_count").evaluate(context) }
        #expect(throws: ConditionError.self) { try Condition("count(3)").evaluate(context) }
    }

    @Test func referencesListTheRootsReadOutsidePredicates() throws {
        let condition = try Condition("all(tasks, state == \"done\") and count(outputs.pages) >= params.page_count")
        let references = condition.references.map { "\($0.root).\($0.member ?? "")" }
        #expect(references == ["tasks.", "outputs.pages", "params.page_count"])
    }

    @Test func deepNestingIsRefusedInsteadOfOverflowingTheStack() {
        let deep = String(repeating: "(", count: 10_000) + "true" + String(repeating: ")", count: 10_000)
        #expect(throws: ConditionError.self) { try Condition(deep) }
        let negations = String(repeating: "not ", count: 10_000) + "true"
        #expect(throws: ConditionError.self) { try Condition(negations) }
    }

    /// Random token soup, parsed and evaluated: it may be refused, but it never crashes or hangs.
    @Test func randomInputNeverCrashes() {
        var generator = SplitMix64(seed: 0xA1_F0)
        let pieces = [
            "tasks", "params", "outputs", "project", ".", "state", "[", "]", "(", ")", ",", "==", "!=", "<", ">=", "and", "or", "not",
            "in", "count", "all", "any", "1", "2.5", "-", "+", "\"done\"", "'x'", "true", "null", " ", "=", "&", "\"", "é", "item",
        ]
        for _ in 0..<5_000 {
            let length = Int(generator.next() % 14) + 1
            let text = (0..<length).map { _ in pieces[Int(generator.next() % UInt64(pieces.count))] }.joined(
                separator: generator.next() % 2 == 0 ? " " : "")
            if let condition = try? Condition(text) {
                _ = try? condition.evaluate(context)
            }
        }
    }
}

/// A small deterministic generator, so a failure can be reproduced.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
