import Contracts
import Foundation
import GRDB
import ServiceTestSupport
import Testing

/// Two StageService shards on one broker behind one Gateway: each project lives on the shard RabbitMQ's
/// consistent-hash exchange gives its id, runs to done there (generation results and approvals find it), and the
/// Gateway lists, reads and serves every project as if there were one StageService.
@Suite("StageService shards end to end", .serialized, .timeLimit(.minutes(6)))
struct ShardedStageEndToEndTests {
    typealias API = GatewayEndToEndTests.API
    static let shards = ["AIWF_STAGE_SHARDS": "2"]

    /// The projects in shard `shard`'s own database.
    static func projects(on shard: Int, of system: TestSystem) throws -> Set<String> {
        let path = system.folder.appendingPathComponent("StageService-\(shard)/stage-shard-\(shard)/StageService.sqlite").path
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        var configuration = Configuration()
        configuration.readonly = true
        return try Set(
            DatabaseQueue(path: path, configuration: configuration).read { try String.fetchAll($0, sql: "SELECT id FROM project") })
    }

    @Test func projectsSpreadOverTwoShardsAndTheGatewayServesThemAsOne() async throws {
        let system = try await TestSystem(repository: repository)
        defer { system.stop() }
        for (name, extra) in [
            ("TemplateService", ["--workflows-dir", repository.appendingPathComponent("Workflows").path]),
            ("ProviderGateway", ["--providers", repository.appendingPathComponent("providers.yaml").path]), ("ApprovalService", []),
        ] {
            let (ready, problem) = try await system.start(name, extra)
            #expect(ready, "\(problem)")
        }
        for shard in 0..<2 {
            let (ready, problem) = try await system.start(
                "StageService", environment: Self.shards.merging(["AIWF_STAGE_SHARD": "\(shard)"]) { $1 }, instance: "StageService-\(shard)"
            )
            #expect(ready, "\(problem)")
        }
        let (base, key, _) = try await system.startGateway(environment: Self.shards)
        let api = API(base: base, authorization: "Bearer \(key)")

        // Websites until each shard holds one (the hash decides; two or three are usually enough).
        var created: [String] = []
        for index in 0..<16 {
            let params = """
                {"company_name": "Shop \(index)", "industry": "retail", "website_type": "business", "page_count": 2, \
                "target_audience": "people nearby", "description": "A small shop that sells useful things every day."}
                """
            let made = try await api.call(
                .POST, "/api/v1/projects", body: #"{"template": "website", "name": "Shop \#(index)", "start": true, "params": \#(params)}"#)
            #expect(made.status == 201, "\(made.body)")
            created.append(try #require(made.body["id"]?.stringValue))
            let held = try (0..<2).map { try Self.projects(on: $0, of: system) }
            if held.allSatisfy({ !$0.isEmpty }) { break }
        }
        let held = try (0..<2).map { try Self.projects(on: $0, of: system) }
        #expect(held.allSatisfy { !$0.isEmpty }, "both shards own projects: \(held)")
        #expect(held[0].isDisjoint(with: held[1]), "no project is on both shards")
        #expect(held[0].union(held[1]) == Set(created))

        // Every project runs to done on its own shard: results and approval decisions found it.
        try await withThrowingTaskGroup(of: (String, JSONValue).self) { group in
            for id in created { group.addTask { (id, try await GatewayEndToEndTests.approveUntilDone(api, id)) } }
            for try await (id, detail) in group {
                #expect(detail["project"]?["state"] == "done", "\(id): \(detail["project"] ?? .null)")
                // The published site, looked up by its slug on whichever shard published it.
                let output = detail["tasks"]?.arrayValue?.first { $0["stage"] == "publish" }?["content"]?.stringValue ?? "{}"
                let url = try JSONValue.parse(Data(output.utf8))["url"]?.stringValue ?? ""
                let site = try await api.download(url.replacingOccurrences(of: "http://localhost:8080", with: ""))
                #expect(site.status == 200, "\(url)")
            }
        }
        for shard in 0..<2 {
            #expect(system.services["StageService-\(shard)"]?.logText.contains("project done") == true, "shard \(shard) finished its own")
        }

        // One list across both shards, page by page, each project once.
        var listed: [String] = []
        var cursor: String?
        repeat {
            let page = try await api.call(.GET, "/api/v1/projects?limit=1" + (cursor.map { "&cursor=\($0)" } ?? "")).body
            listed += page["projects"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            cursor = page["next"]?.stringValue
        } while cursor != nil && listed.count <= created.count
        #expect(listed.count == created.count && Set(listed) == Set(created), "\(listed) vs \(created)")
    }
}
