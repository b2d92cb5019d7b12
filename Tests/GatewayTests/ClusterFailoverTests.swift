import Contracts
import Foundation
import ServiceTestSupport
import Testing

/// The five services on a three-node RabbitMQ cluster (`scripts/cluster.sh`, started by `scripts/test.sh`), every one
/// connected to the first node; that node is stopped while website projects are being generated. Every service goes
/// on over the next node of its URL list, and every project runs to done with each page written and each approval
/// decided once.
@Suite(
    "RabbitMQ cluster failover", .serialized, .timeLimit(.minutes(6)),
    .enabled(if: TestCluster.urls != nil, "needs AIWF_TEST_CLUSTER_URLS (scripts/test.sh starts the cluster)"))
struct ClusterFailoverTests {
    typealias API = GatewayEndToEndTests.API
    static let projects = 4

    /// When the node goes: as the projects are created (their first pages being written, results and outbox
    /// records in flight), or once the first one waits for an approval (the others still being written).
    enum Moment: String, CaseIterable, CustomTestStringConvertible {
        case whileWriting, atTheFirstApproval
        var testDescription: String { rawValue }
    }

    @Test(arguments: Moment.allCases)
    func stoppingTheNodeEveryServiceUsesMidRunLosesNothingAndDoesNothingTwice(_ moment: Moment) async throws {
        let urls = try #require(TestCluster.urls)
        var failure: (any Error)?
        do { try await run(moment, urls: urls) } catch { failure = error }
        // The node comes back for the next test, and rejoins the cluster.
        let start = try await TestCluster.startNode(1)
        #expect(start.status == 0, "\(start.errors)")
        if let failure { throw failure }
    }

    private func run(_ moment: Moment, urls: String) async throws {
        let system = TestSystem(repository: repository, brokerURL: urls)
        defer { system.stop() }
        let problems = try await system.startEngine()
        #expect(problems.isEmpty, "\(problems)")
        let (base, key, _) = try await system.startGateway()
        let api = API(base: base, authorization: "Bearer \(key)")

        var ids: [String] = []
        for index in 0..<Self.projects {
            let params = """
                {"company_name": "Bakery \(index)", "industry": "bakery", "website_type": "business", "page_count": 3, \
                "target_audience": "families nearby", "description": "A neighbourhood bakery that sells bread and cakes every day."}
                """
            let created = try await api.call(
                .POST, "/api/v1/projects",
                body: #"{"template": "website", "name": "Bakery \#(index)", "start": true, "params": \#(params)}"#)
            ids.append(try #require(created.body["id"]?.stringValue, "\(created.body)"))
        }
        if moment == .atTheFirstApproval {
            #expect(try await eventually(timeout: .seconds(60)) { try await !Self.pending(api).isEmpty })
        }
        let started = ContinuousClock.now
        let stop = try await TestCluster.stopNode(1)
        #expect(stop.status == 0, "\(stop.errors)")

        var decided: [String: Int] = [:]
        let deadline = ContinuousClock.now + .seconds(240)
        var states: [String: String] = [:]
        while ContinuousClock.now < deadline {
            for id in ids where states[id] != "done" && states[id] != "failed" {
                states[id] = (try? await api.call(.GET, "/api/v1/projects/\(id)"))?.body["project"]?["state"]?.stringValue
            }
            if ids.allSatisfy({ states[$0] == "done" || states[$0] == "failed" }) { break }
            let pending = (try? await Self.pending(api)) ?? []
            for approval in pending {
                guard let approvalID = approval["id"]?.stringValue else { continue }
                let body = #"{"decision": "approve", "contentHash": "\#(approval["contentHash"]?.stringValue ?? "")"}"#
                if let answer = try? await api.call(.POST, "/api/v1/approvals/\(approvalID)/decision", body: body), answer.status == 200 {
                    decided[approvalID, default: 0] += 1
                }
            }
            if pending.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
        }
        print("aiwf: \(moment): \(Self.projects) projects done \(ContinuousClock.now - started) after their node was stopped")
        guard ids.allSatisfy({ states[$0] == "done" }) else {
            // What went wrong shows in each service's warnings and errors, not in the tail of its log.
            let logs = system.services.sorted { $0.key < $1.key }.map { name, service in
                let troubles = service.logText.split(separator: "\n").filter { !$0.contains(#""level":"info""#) }
                return "\(name):\n\(troubles.prefix(60).joined(separator: "\n"))"
            }
            Issue.record("not every project done: \(states)\n\(logs.joined(separator: "\n"))")
            return
        }
        for (name, service) in system.services {
            #expect(service.logText.contains("connection to RabbitMQ lost"), "\(name) never lost its node: the test stopped the wrong one")
        }
        #expect(decided.values.allSatisfy { $0 == 1 }, "an approval was decided twice: \(decided)")

        for id in ids {
            let read = try await api.call(.GET, "/api/v1/projects/\(id)")
            #expect(read.status == 200, "\(id): \(read.body)")
            let detail = read.body
            let tasks = detail["tasks"]?.arrayValue ?? []
            // Every page (and every other piece) once: a result handled twice, or a request answered twice, would
            // show as a second task of the same stage run and item.
            let keys = tasks.map { "\($0["stageRunID"]?.stringValue ?? "")#\(Int($0["index"]?.numberValue ?? -1))" }
            #expect(!tasks.isEmpty && Set(keys).count == keys.count, "\(id): \(keys)")
            #expect(
                tasks.allSatisfy { $0["state"]?.stringValue == "done" || $0["approved"] == .bool(true) },
                "\(id): \(tasks.map { $0["state"] ?? .null })")
            let stageRuns = Set(tasks.compactMap { $0["stageRunID"]?.stringValue })
            let approvals = try await api.call(.GET, "/api/v1/projects/\(id)/approvals")
            #expect(approvals.status == 200, "\(id): \(approvals.body)")
            let history = approvals.body.arrayValue ?? []
            // One approval per gated stage run, approved on its first round.
            #expect(history.allSatisfy { $0["state"]?.stringValue == "approved" }, "\(id): \(history.map { $0["state"] ?? .null })")
            #expect(Set(history.compactMap { $0["stageRunID"]?.stringValue }).count == history.count, "\(id): two approvals of one run")
            #expect(!history.isEmpty && !stageRuns.isEmpty)
        }
    }

    static func pending(_ api: API) async throws -> [JSONValue] {
        try await api.call(.GET, "/api/v1/approvals").body.arrayValue ?? []
    }
}
