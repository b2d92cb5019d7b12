import Contracts
import Foundation
import Testing

@testable import ApprovalService

private let now = Date(timeIntervalSince1970: 1_800_000_000)

private func approval(
    policy: ApprovalPolicy = .any, assignees: [Assignee] = [.user("ana")], allowFeedback: Bool = true, expireAfterDays: Double? = nil,
    escalateTo: [Assignee] = []
) -> Approval {
    Approval(
        id: "a1",
        request: RequestApproval(
            projectID: "p1", stageRunID: "run-1", stage: "content", approvalType: .content, contentHash: "h0", summary: "Three pages",
            items: [
                ApprovalItem(id: "home", title: "Home", contentHash: "hh", content: "Welcome"),
                ApprovalItem(id: "about", title: "About", contentHash: "ha", content: "About us"),
            ],
            assignees: assignees, policy: policy, allowFeedback: allowFeedback, expireAfterDays: expireAfterDays, escalateTo: escalateTo),
        at: now)
}

private func decide(
    _ approval: Approval, _ decision: ApprovalDecision, as identity: Identity = .user(id: "ana", roles: []), hash: String = "h0",
    feedback: String? = nil, reason: String? = nil, items: [ItemDecision] = [], at date: Date = now
) throws -> DecisionOutcome {
    try ApprovalRules.decide(
        DecideApproval(
            approvalID: approval.id, decider: .user("x"), decision: decision, contentHash: hash, feedback: feedback, reason: reason,
            items: items),
        by: identity, on: approval, at: date)
}

/// The code of the refusal `body` ends in, or nil when it was accepted.
private func refusal(_ body: () throws -> DecisionOutcome) -> String? {
    do {
        _ = try body()
        return nil
    } catch {
        return (error as? ApprovalRefusal)?.code ?? "\(error)"
    }
}

@Suite("The approval state machine")
struct ApprovalRulesTests {
    @Test func approveSettlesAnAnyApprovalWithTheHashItCovered() throws {
        let outcome = try decide(approval(), .approve)
        #expect(outcome.approval.state == .approved)
        let event = try #require(outcome.decided)
        #expect(event.decision == .approve && event.contentHash == "h0" && event.decidedBy == ["user:ana"])
        #expect(event.items.allSatisfy { $0.approved })
    }

    @Test func requestChangesNeedsFeedbackAndCarriesIt() throws {
        #expect(refusal { try decide(approval(), .requestChanges) } == "invalid")
        let outcome = try decide(approval(), .requestChanges, feedback: "Shorter, please")
        #expect(outcome.approval.state == .changesRequested)
        #expect(outcome.decided?.feedback == "Shorter, please")
        #expect(outcome.decided?.items.allSatisfy { !$0.approved } == true)
    }

    @Test func aStageWithoutFeedbackOnlyApprovesOrRejects() {
        #expect(refusal { try decide(approval(allowFeedback: false), .requestChanges, feedback: "x") } == "invalid")
    }

    @Test func rejectNeedsAReason() throws {
        #expect(refusal { try decide(approval(), .reject) } == "invalid")
        let outcome = try decide(approval(), .reject, reason: "Off brand")
        #expect(outcome.approval.state == .rejected && outcome.decided?.reason == "Off brand")
    }

    @Test func aDecidedApprovalRefusesAnotherDecision() throws {
        let decided = try decide(approval(), .approve).approval
        #expect(refusal { try decide(decided, .reject, reason: "late") } == "not-pending")
    }

    @Test func aStaleHashIsRefused() {
        #expect(refusal { try decide(approval(), .approve, hash: "old") } == "stale-content")
    }

    @Test func aDecisionAfterExpiryIsRefusedEvenBeforeTheTimerFired() throws {
        let expiring = approval(expireAfterDays: 1)
        #expect(refusal { try decide(expiring, .approve, at: now.addingTimeInterval(86_401)) } == "expired")
        let (expired, event) = try #require(ApprovalRules.expire(expiring, at: now.addingTimeInterval(86_401)))
        #expect(expired.state == .expired && event.approvalID == "a1")
        #expect(refusal { try decide(expired, .approve) } == "not-pending")
        #expect(ApprovalRules.expire(expired, at: now) == nil, "expires once")
    }

    @Test func onlyAssigneesDecide() throws {
        #expect(refusal { try decide(approval(), .approve, as: .user(id: "bob", roles: [])) } == "not-allowed")
        #expect(refusal { try decide(approval(), .approve, as: .email("ana@example.com")) } == "not-allowed")
        let byRole = approval(assignees: [.role("editor")])
        #expect(try decide(byRole, .approve, as: .user(id: "bob", roles: ["editor"])).approval.state == .approved)
        let byEmail = approval(assignees: [.email("Reviewer@Example.com")])
        #expect(try decide(byEmail, .approve, as: .email("reviewer@example.com")).approval.state == .approved)
    }

    @Test func allWaitsForEveryAssigneeAndAnyObjectionDecides() throws {
        let both = approval(policy: .all, assignees: [.user("ana"), .user("bob")])
        let first = try decide(both, .approve)
        #expect(first.approval.state == .pending && first.decided == nil)
        #expect(first.vote?.decidedBy == "user:ana" && first.vote?.waitingFor == [.user("bob")])
        #expect(refusal { try decide(first.approval, .approve) } == "already-decided")
        let second = try decide(first.approval, .approve, as: .user(id: "bob", roles: []))
        #expect(second.approval.state == .approved && second.vote == nil)
        #expect(second.decided?.decidedBy == ["user:ana", "user:bob"])
        let objection = try decide(first.approval, .requestChanges, as: .user(id: "bob", roles: []), feedback: "No")
        #expect(objection.approval.state == .changesRequested)
    }

    @Test func anEscalationAssigneeDecidesOnTheirOwnOnceEscalated() throws {
        let waiting = approval(policy: .all, assignees: [.user("ana"), .user("bob")], escalateTo: [.user("boss")])
        #expect(refusal { try decide(waiting, .approve, as: .user(id: "boss", roles: [])) } == "not-allowed")
        let escalated = try #require(ApprovalRules.escalate(waiting))
        #expect(ApprovalRules.escalate(escalated) == nil, "escalates once")
        #expect(try decide(escalated, .approve, as: .user(id: "boss", roles: [])).approval.state == .approved)
    }

    @Test func perItemDecisionsAreOneDecision() throws {
        let outcome = try decide(
            approval(), .approve,
            items: [
                ItemDecision(itemID: "home", decision: .approve),
                ItemDecision(itemID: "about", decision: .requestChanges, feedback: "Mention the founders"),
            ])
        #expect(outcome.approval.state == .changesRequested)
        let items = try #require(outcome.decided?.items)
        #expect(items.map(\.approved) == [true, false])
        #expect(items[1].feedback == "Mention the founders")
    }

    @Test func perItemDecisionsMustCoverEveryItemOnce() {
        #expect(refusal { try decide(approval(), .approve, items: [ItemDecision(itemID: "home", decision: .approve)]) } == "invalid")
        #expect(
            refusal {
                try decide(
                    approval(), .approve,
                    items: [ItemDecision(itemID: "home", decision: .approve), ItemDecision(itemID: "nope", decision: .approve)])
            } == "invalid")
        #expect(
            refusal {
                try decide(
                    approval(), .approve,
                    items: [ItemDecision(itemID: "home", decision: .approve), ItemDecision(itemID: "about", decision: .requestChanges)])
            } == "invalid", "feedback required per item")
    }

    @Test func editThenApproveMakesTheEditTheApprovedContent() throws {
        let outcome = try decide(
            approval(), .approve,
            items: [
                ItemDecision(itemID: "home", decision: .approve, editedContent: "Welcome, neighbours"),
                ItemDecision(itemID: "about", decision: .approve),
            ])
        #expect(outcome.approval.state == .approved)
        let home = try #require(outcome.decided?.items.first)
        #expect(home.editedContent == "Welcome, neighbours")
        #expect(home.contentHash == ContentHash.of("Welcome, neighbours"))
        #expect(outcome.approval.items[0].content == "Welcome, neighbours")
        #expect(outcome.approval.contentHash == ContentHash.of(items: outcome.approval.items))
        #expect(outcome.decided?.contentHash == "h0", "the decision covered what the reviewer saw")
    }
}
