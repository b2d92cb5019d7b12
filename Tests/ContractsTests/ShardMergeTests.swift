import Contracts
import Foundation
import Testing

/// What the Gateway makes of the answers of every StageService shard to a question about no one project.
@Suite("Answers merged across shards")
struct ShardMergeTests {
    static func project(_ id: String, second: Double) -> ProjectView {
        ProjectView(
            id: id, name: id, template: "website", templateVersion: 1, ownerID: "u", state: .running, progress: 0, params: [:], cost: 0,
            createdAt: Date(timeIntervalSince1970: 1_800_000_000 + second), lastEvent: 0)
    }

    @Test func pagesOfProjectsInterleaveNewestFirstAndTheNextPageStartsAfterTheLastShown() throws {
        let first = ProjectPage(projects: [Self.project("a", second: 9), Self.project("c", second: 5)], next: "more")
        let second = ProjectPage(projects: [Self.project("b", second: 7), Self.project("d", second: 1)])
        let page = ListProjects.merge([first, second], for: ListProjects(limit: 3))
        #expect(page.projects.map(\.id) == ["a", "b", "c"])
        let cursor = try #require(page.next)
        let position = try #require(ProjectPage.position(of: cursor))
        #expect(position.id == "c")
        #expect(position.createdAt == Self.project("c", second: 5).createdAt)

        let last = ListProjects.merge(
            [ProjectPage(projects: [Self.project("d", second: 1)]), ProjectPage(projects: [])], for: ListProjects())
        #expect(last.projects.map(\.id) == ["d"] && last.next == nil, "no next page when every shard is done")
    }

    @Test func aCursorKeepsMillisecondsAndOldSecondCursorsStillRead() throws {
        let project = ProjectView(
            id: "p", name: "p", template: "t", templateVersion: 1, ownerID: "u", state: .draft, progress: 0, params: [:], cost: 0,
            createdAt: Date(timeIntervalSince1970: 1_764_758_400.123), lastEvent: 0)
        #expect(ProjectPage.cursor(after: project) == "1764758400123_p")
        #expect(ProjectPage.position(of: "1764758400.5_p")?.createdAt == Date(timeIntervalSince1970: 1_764_758_400.5))
        #expect(ProjectPage.position(of: "yesterday") == nil)
    }

    @Test func usageAddsUpPerDayProviderAndModelNewestDayFirst() {
        let shard0 = [
            UsageDay(day: "2026-12-02", provider: "local", model: "m", tasks: 2, tokensIn: 10, tokensOut: 20, cost: 0.5),
            UsageDay(day: "2026-12-01", provider: "local", model: "m", tasks: 1, tokensIn: 1, tokensOut: 2, cost: 0.1),
        ]
        let shard1 = [UsageDay(day: "2026-12-02", provider: "local", model: "m", tasks: 3, tokensIn: 5, tokensOut: 5, cost: 0.25)]
        let merged = GetUsageByDay.merge([shard0, shard1], for: GetUsageByDay(days: 7))
        #expect(merged.map(\.day) == ["2026-12-02", "2026-12-01"])
        #expect(merged[0].tasks == 5 && merged[0].tokensIn == 15 && merged[0].tokensOut == 25 && merged[0].cost == 0.75)
    }

    @Test func theShardThatPublishedASiteAnswersForIt() {
        let missing = PublishedFile(found: false, path: "404.html", sha256: "", data: Data("not here".utf8))
        let found = PublishedFile(found: true, path: "index.html", sha256: "x", data: Data("home".utf8))
        #expect(GetPublishedFile.merge([missing, found], for: GetPublishedFile(slug: "s", path: "/")) == found)
    }

    @Test func aSurveyAnswerGoesToTheCommandsQueueAndReadsToTheQueriesQueueOfEachShard() {
        func queue<R: AcrossShards>(_: R.Type) -> String { R.stageQueue }  // as the sender sees it: generically
        #expect(queue(SubmitSurveyResponse.self) == ServiceQueues.stageCommands)
        for read in [queue(ListProjects.self), queue(GetUsageByDay.self), queue(GetPublishedFile.self), queue(GetSurvey.self)] {
            #expect(read == ServiceQueues.stageQueries)
        }
    }

    @Test func shardQueuesKeepTheirNameWhenThereIsOneShard() {
        #expect(StageShards(count: 1).queue("stage.commands", shard: 0) == "stage.commands")
        #expect(StageShards(count: 3).queue("stage.commands", shard: 2) == "stage.commands.2")
        #expect(StageShards(count: 0).count == 1)
    }
}
