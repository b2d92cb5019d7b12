import Contracts
import Foundation
import GRDB
import Testing

@testable import StageService

/// Bad input is refused with its code and a message that says what to fix; nothing changes.
@Suite("Command refusals", .timeLimit(.minutes(1)))
struct CommandRefusalTests {
    func refusal(_ body: () async throws -> Void) async -> StageError? {
        do {
            try await body()
            return nil
        } catch let error as StageError {
            return error
        } catch {
            return StageError(code: "unexpected", message: "\(error)")
        }
    }

    @Test func createIsRefusedForUnknownTemplatesAndWrongParamsWithEveryPointer() async throws {
        let bed = try await EngineBed()
        defer { bed.stop() }
        let unknown = await refusal { _ = try await bed.create("nonexistent", params: [:]) }
        #expect(unknown?.code == "not-found")

        var params = websiteParams
        params["page_count"] = 50
        params["company_name"] = nil
        params["website_type"] = 7
        let wrong = await refusal { _ = try await bed.create("website", params: params) }
        #expect(wrong?.code == "invalid")
        for pointer in ["params/page_count", "params/website_type", "company_name"] {
            #expect(wrong?.message.contains(pointer) == true, "\(pointer) in: \(wrong?.message ?? "")")
        }
        let anonymous = await refusal {
            _ = try await bed.engine.create(CreateProject(template: "website", name: "x", params: websiteParams), actor: nil)
        }
        #expect(anonymous?.code == "unauthenticated")
        #expect(try await bed.engine.list(ListProjects(), actor: owner).projects.isEmpty, "nothing was created")
    }

    @Test func aProjectIDChosenBySenderIsKeptARepeatedCreateGetsTheSameProjectAndABadOneIsRefused() async throws {
        let bed = try await EngineBed()
        defer { bed.stop() }
        let make = CreateProject(
            template: "website", name: "Chosen", params: websiteParams, projectID: "3f2a9c1e-0000-4000-8000-000000000001")
        let made = try await bed.engine.create(make, actor: owner)
        #expect(made.id == "3f2a9c1e-0000-4000-8000-000000000001", "the shard was chosen by this id: it must be the project's")
        let again = try await bed.engine.create(make, actor: owner)
        #expect(again == made, "the create sent again (its reply lost) gets the same project")
        #expect(try await bed.engine.list(ListProjects(), actor: owner).projects.count == 1)

        var other = make
        other.name = "Something else"
        #expect(await refusal { _ = try await bed.engine.create(other, actor: owner) }?.code == "conflict")
        #expect(await refusal { _ = try await bed.engine.create(make, actor: Actor(userID: "bob")) }?.code == "conflict")
        for bad in ["", "../../etc", String(repeating: "a", count: 65), "has space"] {
            var wrong = make
            wrong.projectID = bad
            let refused = await refusal { _ = try await bed.engine.create(wrong, actor: owner) }
            #expect(
                refused?.code == "invalid" && refused?.message.contains("projectID") == true, "\(bad): \(refused?.message ?? "accepted")")
        }
    }

    @Test func commandsInTheWrongStateAndOthersProjectsAreRefused() async throws {
        let bed = try await EngineBed()
        defer { bed.stop() }
        let draft = try await bed.create("website", params: websiteParams, start: false)
        for action in [ProjectAction.pause, .resume, .advance, .retry, .restart] {
            let refused = await refusal {
                _ = try await bed.engine.change(ChangeProject(projectID: draft.id, action: action), actor: owner)
            }
            #expect(refused?.code == "wrong-state", "\(action): \(refused?.message ?? "accepted")")
        }
        let stranger = await refusal {
            _ = try await bed.engine.change(ChangeProject(projectID: draft.id, action: .start), actor: Actor(userID: "bob"))
        }
        #expect(stranger?.code == "not-found", "another user's project does not exist for them")
        let started = try await bed.engine.change(ChangeProject(projectID: draft.id, action: .start), actor: owner)
        #expect(started.state == .running)
        let again = await refusal { _ = try await bed.engine.change(ChangeProject(projectID: draft.id, action: .start), actor: owner) }
        #expect(again?.code == "wrong-state")
        let admin = try await bed.engine.detail(draft.id, actor: Actor(userID: "root", roles: ["admin"]))
        #expect(admin.project.id == draft.id, "an admin sees every project")
    }

    @Test func aDecisionForAProjectThatIsNotWaitingChangesNothing() async throws {
        let bed = try await EngineBed()
        defer { bed.stop() }
        let project = try await bed.create("website", params: websiteParams, start: false)
        try await bed.bus.publish(
            ApprovalDecided(
                approvalID: "a", projectID: project.id, stageRunID: "nothing", stage: "design_review", decision: .approve,
                decidedBy: ["user:ana"], decidedAt: Date(), contentHash: "h", feedback: nil, reason: nil, items: []),
            context: .init())
        // Handled (claimed in the inbox) and ignored.
        #expect(
            try await bed.run {
                try await bed.engine.database.read { db in
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox WHERE consumer = 'approvals'") == 1
                }
            })
        let after = try await bed.project(project.id)
        #expect(after.project.state == .draft)
        #expect(after.project.lastEvent == 1)
    }
}
