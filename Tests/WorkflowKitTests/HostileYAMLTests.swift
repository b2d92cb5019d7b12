import Foundation
import Testing

@testable import WorkflowKit

/// Uploads that would exhaust memory or the stack are refused before any document is built.
@Suite("Hostile YAML", .timeLimit(.minutes(1)))
struct HostileYAMLTests {
    /// Nine levels of nine aliases: a few hundred bytes that expand to 9⁹ (387 million) strings.
    static let aliasBomb: String = {
        var lines = ["a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"]
        for level in 1...8 {
            let previous = "*a\(level - 1)"
            lines.append("a\(level): &a\(level) [\(Array(repeating: previous, count: 9).joined(separator: ","))]")
        }
        lines.append("code: bomb\nname: Bomb\ndescription: x\nstages: *a8")
        return lines.joined(separator: "\n")
    }()

    private func refusal(_ yaml: String) -> String? {
        do {
            _ = try WorkflowLoader.load(yaml: yaml, file: "upload")
            return nil
        } catch {
            return error.issues.first?.message
        }
    }

    @Test func anAliasBombIsRefusedAtOnce() {
        let started = ContinuousClock.now
        #expect(refusal(Self.aliasBomb)?.contains("aliases") == true)
        #expect(ContinuousClock.now - started < .seconds(1))
    }

    @Test func deepNestingIsRefusedBeforeARecursiveBuilderSeesIt() {
        let deep = "code: deep\nstages: " + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        let message = refusal(deep)
        #expect(message?.contains("nest more than") == true || message?.contains("depth") == true, "\(message ?? "accepted")")
    }

    @Test func aDocumentPastTheSizeLimitIsRefused() {
        let big = "code: big\ndescription: \"" + String(repeating: "x", count: 600 * 1024) + "\""
        #expect(refusal(big)?.contains("bytes; at most") == true)
    }

    @Test func tooManyValuesAreRefused() {
        var bounds = YAMLBounds()
        bounds.maximumNodes = 100
        let many = "list: [" + (0..<200).map(String.init).joined(separator: ", ") + "]"
        #expect(bounds.violation(in: many)?.contains("more than 100 values") == true)
        #expect(bounds.violation(in: "list: [1, 2, 3]") == nil)
    }

    @Test(arguments: [
        ["loop": "again {{> loop}}"],
        ["a": "{{> b}}", "b": "{{> c}}", "c": "{{> a}}"],
    ])
    func aPartialThatIncludesItselfIsRefusedByValidationAndByTheRenderer(_ partials: [String: String]) throws {
        let entries = partials.sorted { $0.key < $1.key }.map { "        \($0.key): \"\($0.value)\"" }.joined(separator: "\n")
        let yaml = """
            code: loops
            name: Loops
            description: x
            params_schema: {type: object}
            stages:
              - code: draft
                name: Draft
                sequence: 10
                execution_mode: ai
                prompt:
                  user: "{{> \(partials.keys.sorted()[0])}}"
                  partials:
            \(entries)
            """
        #expect(refusal(yaml)?.contains("includes itself") == true)
        let prompt = PromptDefinition(system: nil, user: "{{> \(partials.keys.sorted()[0])}}", partials: partials)
        #expect(throws: PromptError.self) { try PromptRenderer.render(prompt, context: [:]) }
    }

    @Test func aPromptFileMustBeInsideTheWorkflowsFolderByWholeComponentsAndAfterSymlinks() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("folders-\(UUID().uuidString.prefix(8))")
        let site = root.appendingPathComponent("site")
        let sibling = root.appendingPathComponent("site-evil")
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: sibling, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try "secret".write(to: sibling.appendingPathComponent("x.md"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            at: site.appendingPathComponent("link.md"), withDestinationURL: sibling.appendingPathComponent("x.md"))
        try "inside".write(to: site.appendingPathComponent("ok.md"), atomically: true, encoding: .utf8)

        #expect(WorkflowLoader.isInside(site.appendingPathComponent("ok.md"), site))
        #expect(!WorkflowLoader.isInside(site.appendingPathComponent("../site-evil/x.md"), site), "a sibling that shares the prefix")
        #expect(!WorkflowLoader.isInside(site.appendingPathComponent("link.md"), site), "a link that leads out")
    }
}
