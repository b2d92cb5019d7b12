import Contracts
import Foundation
import Testing
import WorkflowKit

@testable import StageService

/// `cli_loop` stages: an allow-listed command run in the project's workspace until it says it is done.
@Suite("cli_loop stages", .timeLimit(.minutes(2)))
struct CLILoopTests {
    /// A shell script written to a folder of its own, allowed by its path.
    struct Script {
        let folder: URL
        let path: String

        init(_ body: String) throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            path = folder.appendingPathComponent("agent.sh").path
            try Data("#!/bin/sh\n\(body)\n".utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
    }

    func workflow(command: String, iterations: Int = 5, timeout: Int = 30, approval: Bool = false) throws -> WorkflowDefinition {
        try customWorkflow(
            """
              - code: build
                name: Build
                sequence: 20
                execution_mode: cli_loop
                requires_approval: \(approval)\(approval ? "\n    approval_type: final" : "")
                auto_advance: true
                prompt:
                  user: "Build a site about {{params.topic}}."
                cli:
                  command: \(command)
                  max_iterations: \(iterations)
                  completion_marker: ALL-DONE
                  timeout: \(timeout)
            """)
    }

    func bed(_ workflow: WorkflowDefinition, allowing allowed: [String], sandbox: CLILoopAction.Sandbox = .none) async throws
        -> EngineBed
    {
        try await EngineBed(
            templates: FixedTemplates(extra: ["custom": workflow]),
            actions: .standard(cliLoop: CLILoopAction(allowed: allowed, sandbox: sandbox)))
    }

    func workspace(_ bed: EngineBed, _ project: String) -> URL {
        bed.folder.appendingPathComponent("artifacts").appendingPathComponent(project).appendingPathComponent("workspace")
    }

    @Test func theCommandRunsUntilItPrintsTheMarkerWithThePromptOnStdinAndAScrubbedEnvironment() async throws {
        let script = try Script(
            """
            cat > prompt-$AIWF_ITERATION.txt
            env > env.txt
            echo "iteration $AIWF_ITERATION of $AIWF_MAX_ITERATIONS"
            [ -f .aiwf/previous-output.txt ] && echo "saw: $(cat .aiwf/previous-output.txt)"
            [ "$AIWF_ITERATION" = 3 ] && echo ALL-DONE
            exit 0
            """)
        let bed = try await bed(try workflow(command: "\(script.path) --fast"), allowing: [script.path])
        defer { bed.stop() }
        let project = try await bed.create("custom", params: ["topic": "bread"])
        let done = try await bed.run(project.id, until: .done)
        #expect(done.project.state == .done, "\(done.project.message ?? "")")
        let output = try JSONValue.parse(Data(try #require(done.tasks.last?.content).utf8))
        #expect(output["iterations"] == 3)
        #expect(output["finished"] == true)
        #expect(output["output"]?.stringValue?.contains("saw: iteration 2 of 5") == true, "the previous output was given")
        #expect(
            done.artifacts.map(\.name).filter { $0.hasPrefix("build-iteration-") }.sorted() == (1...3).map { "build-iteration-\($0).txt" })

        let folder = workspace(bed, project.id)
        let prompt = try String(contentsOf: folder.appendingPathComponent("prompt-1.txt"), encoding: .utf8)
        #expect(prompt == "Build a site about bread.")
        let names = try String(contentsOf: folder.appendingPathComponent("env.txt"), encoding: .utf8).split(separator: "\n")
            .compactMap { $0.split(separator: "=", maxSplits: 1).first.map(String.init) }
        let leaked = names.filter { !$0.hasPrefix("AIWF_") && !["PATH", "HOME", "LANG", "PWD", "SHLVL", "_", "OLDPWD"].contains($0) }
        #expect(leaked.isEmpty, "the command saw \(leaked)")
        #expect(!names.contains("AIWF_AMQP_URL") && names.contains("AIWF_WORKSPACE"))
    }

    @Test func aCommandThatIsNotAllowListedIsNeverRun() async throws {
        let script = try Script("touch ran.txt; echo ALL-DONE")
        let bed = try await bed(try workflow(command: script.path), allowing: [])
        defer { bed.stop() }
        let project = try await bed.create("custom", params: ["topic": "bread"])
        let failed = try await bed.run(project.id, until: .failed)
        #expect(failed.project.message?.contains("not allow-listed") == true, "\(failed.project.message ?? "")")
        #expect(failed.project.message?.contains("AIWF_CLI_ALLOW") == true)
        #expect(!FileManager.default.fileExists(atPath: workspace(bed, project.id).appendingPathComponent("ran.txt").path))
    }

    @Test func aNonZeroExitFailsTheStageWithItsStatusAndErrorsAndKeepsTheOutput() async throws {
        let script = try Script("echo working; echo 'the disk is full' >&2; exit 3")
        let bed = try await bed(try workflow(command: script.path), allowing: [script.path])
        defer { bed.stop() }
        let failed = try await bed.run(try await bed.create("custom", params: ["topic": "bread"]).id, until: .failed)
        let message = failed.project.message ?? ""
        #expect(message.contains("status 3") && message.contains("the disk is full"), "\(message)")
        #expect(Set(failed.artifacts.map(\.name)) == ["build-iteration-1.txt", "build-iteration-1.stderr.txt"])
    }

    @Test func aFailedLoopRunsAgainOnRetry() async throws {
        let script = try Script(#"if [ -f "$(dirname "$0")/ok" ]; then echo ALL-DONE; else echo 'not yet' >&2; exit 1; fi"#)
        let bed = try await bed(try workflow(command: script.path), allowing: [script.path])
        defer { bed.stop() }
        let project = try await bed.create("custom", params: ["topic": "bread"])
        #expect(try await bed.run(project.id, until: .failed).project.message?.contains("not yet") == true)
        FileManager.default.createFile(atPath: script.folder.appendingPathComponent("ok").path, contents: nil)
        _ = try await bed.engine.change(ChangeProject(projectID: project.id, action: .retry), actor: owner)
        let done = try await bed.run(project.id, until: .done)
        #expect(done.project.state == .done, "\(done.project.message ?? "") waiting for \(done.project.waitingFor?.rawValue ?? "-")")
    }

    @Test func reachingMaxIterationsWithoutTheMarkerEndsTheStageUnfinished() async throws {
        let script = try Script("echo still going")
        let bed = try await bed(try workflow(command: script.path, iterations: 2), allowing: [script.path])
        defer { bed.stop() }
        let done = try await bed.run(try await bed.create("custom", params: ["topic": "bread"]).id, until: .done)
        let output = try JSONValue.parse(Data(try #require(done.tasks.last?.content).utf8))
        #expect(output["iterations"] == 2)
        #expect(output["finished"] == false)
    }

    @Test func anIterationPastItsTimeoutIsKilledWithEveryProcessItStarted() async throws {
        let script = try Script(
            """
            sleep 300 &
            echo $! > child.pid
            sleep 300
            """)
        let bed = try await bed(try workflow(command: script.path, timeout: 1), allowing: [script.path])
        defer { bed.stop() }
        let project = try await bed.create("custom", params: ["topic": "bread"])
        let failed = try await bed.run(project.id, until: .failed)
        #expect(failed.project.message?.contains("1 s timeout") == true, "\(failed.project.message ?? "")")
        let pidText = try String(contentsOf: workspace(bed, project.id).appendingPathComponent("child.pid"), encoding: .utf8)
        let child = try #require(Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(await Self.ended(child), "the command's own child \(child) was killed too")
    }

    /// Whether `pid` is gone or a zombie (killed, not yet reaped by its new parent) within a few seconds.
    static func ended(_ pid: Int32) async -> Bool {
        for _ in 0..<50 {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            let state = stat.split(separator: ")").last?.split(separator: " ").first
            if stat.isEmpty || state == "Z" || state == "X" { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test func aRequestForChangesRunsTheLoopAgainWithTheFeedbackAndThePreviousOutput() async throws {
        let script = try Script(
            """
            if [ -f .aiwf/feedback.txt ]; then echo "fixed: $(cat .aiwf/feedback.txt) after: $(cat .aiwf/previous-output.txt)"; else echo first draft; fi
            echo ALL-DONE
            """)
        let bed = try await bed(try workflow(command: script.path, approval: true), allowing: [script.path])
        defer { bed.stop() }
        let project = try await bed.create("custom", params: ["topic": "bread"])
        try await bed.decide(.requestChanges, feedback: "bigger headings")
        try await bed.decide(.approve)
        let done = try await bed.run(project.id, until: .done)
        let output = try JSONValue.parse(Data(try #require(done.tasks.last?.content).utf8))
        let text = output["output"]?.stringValue ?? ""
        #expect(text.contains("fixed: bigger headings after: first draft"), "\(text)")
    }

    @Test func insideBubblewrapTheCommandHasNoNetworkAndWritesOnlyItsWorkspace() async throws {
        let script = try Script(
            """
            echo inside > inside.txt
            echo escaped > "$(dirname "$0")/escaped.txt" 2>/dev/null
            cat /proc/net/dev > nets.txt
            echo ALL-DONE
            """)
        let bed = try await bed(try workflow(command: script.path), allowing: [script.path], sandbox: .bwrap)
        defer { bed.stop() }
        let project = try await bed.create("custom", params: ["topic": "bread"])
        let done = try await bed.run(project.id, until: .done)
        #expect(done.project.state == .done, "\(done.project.message ?? "")")
        let folder = workspace(bed, project.id)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("inside.txt").path))
        #expect(
            !FileManager.default.fileExists(atPath: script.folder.appendingPathComponent("escaped.txt").path),
            "the folder of the command itself is read-only")
        let nets = try String(contentsOf: folder.appendingPathComponent("nets.txt"), encoding: .utf8).split(separator: "\n")
            .filter { $0.contains(":") }.map { $0.split(separator: ":")[0].trimmingCharacters(in: .whitespaces) }
        #expect(nets == ["lo"], "only a loopback of its own: \(nets)")
    }
}
