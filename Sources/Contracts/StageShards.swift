import Foundation

/// How StageService is split: `count` shards, each owning the projects whose id RabbitMQ's consistent-hash exchange
/// maps to it, with a database, an artifact folder and queues of its own.
///
/// A message about one project carries the project id as its shard key (``Message/shardKey``) and reaches the owning
/// shard through one of the ``exchanges``; a question about no one project (``AcrossShards``) is asked of every shard
/// and the answers merged. The count is a deployment setting every service that talks to StageService shares
/// (`AIWF_STAGE_SHARDS`); changing it moves no projects, so it is chosen before the first project is made.
public struct StageShards: Sendable, Equatable {
    public let count: Int

    public init(count: Int) {
        self.count = max(1, count)
    }

    /// The indexes `0..<count`.
    public var all: Range<Int> { 0..<count }

    /// Shard `shard`'s copy of one of StageService's queues: the name itself when there is one shard (as before
    /// sharding), `<name>.<shard>` otherwise.
    public func queue(_ name: String, shard: Int) -> String {
        count == 1 ? name : "\(name).\(shard)"
    }

    /// The consistent-hash exchanges in front of StageService's queues: project commands, project reads, generation
    /// results and approval outcomes.
    public enum Exchanges {
        public static let commands = "aiwf.stage.commands"
        public static let queries = "aiwf.stage.queries"
        public static let results = "aiwf.stage.results"
        public static let approvals = "aiwf.stage.approvals"
    }
}

/// A request to StageService that no one project's shard can answer alone (a list, a total, a lookup by a name that is
/// not a project id): asked of every shard, the answers merged. A shard without the thing asked for answers
/// `not-found`; only when every shard does is the request not found.
public protocol AcrossShards: Request {
    /// The StageService queue (of each shard) that answers this request.
    static var stageQueue: String { get }
    /// One reply from the shards' replies (at least one).
    static func merge(_ replies: [Reply], for request: Self) -> Reply
}

extension ListProjects: AcrossShards {
    /// Every shard's page, newest first, cut to the limit; the next page starts after the last one shown.
    public static func merge(_ replies: [ProjectPage], for request: ListProjects) -> ProjectPage {
        let projects = replies.flatMap(\.projects).sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
        let limit = min(max(request.limit, 1), ListProjects.maximumLimit)
        let shown = Array(projects.prefix(limit))
        let more = projects.count > limit || replies.contains { $0.next != nil }
        return ProjectPage(projects: shown, next: more ? shown.last.map(ProjectPage.cursor(after:)) : nil)
    }
}

extension GetUsageByDay: AcrossShards {
    /// The shards' rows added up per day, provider and model, newest day first.
    public static func merge(_ replies: [[UsageDay]], for request: GetUsageByDay) -> [UsageDay] {
        var totals: [String: UsageDay] = [:]
        for row in replies.joined() {
            let key = "\(row.day)\u{0}\(row.provider)\u{0}\(row.model)"
            if var total = totals[key] {
                total.tasks += row.tasks
                total.tokensIn += row.tokensIn
                total.tokensOut += row.tokensOut
                total.cost += row.cost
                totals[key] = total
            } else {
                totals[key] = row
            }
        }
        return totals.values.sorted { ($1.day, $0.provider, $0.model) < ($0.day, $1.provider, $1.model) }
    }
}

/// The shard that published the site answers; the others do not know the slug.
extension GetPublishedFile: AcrossShards {
    public static func merge(_ replies: [PublishedFile], for request: GetPublishedFile) -> PublishedFile {
        replies.first { $0.found } ?? replies[0]
    }
}

extension GetSurvey: AcrossShards {
    public static func merge(_ replies: [SurveyDocument], for request: GetSurvey) -> SurveyDocument { replies[0] }
}

/// Recorded by the one shard that published the survey; the others answer `not-found` and change nothing.
extension SubmitSurveyResponse: AcrossShards {
    public static func merge(_ replies: [SurveySubmission], for request: SubmitSurveyResponse) -> SurveySubmission {
        replies[0]
    }
}

extension ProjectPage {
    /// The cursor of the page after `project`: its creation time in whole milliseconds (as precise as it is stored
    /// and sent) and its id.
    public static func cursor(after project: ProjectView) -> String {
        "\(Int64((project.createdAt.timeIntervalSince1970 * 1000).rounded()))_\(project.id)"
    }

    /// The creation time and id a cursor names, or nil when it is not one.
    public static func position(of cursor: String) -> (createdAt: Date, id: String)? {
        let parts = cursor.split(separator: "_", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        if let milliseconds = Int64(parts[0]) {
            return (Date(timeIntervalSince1970: Double(milliseconds) / 1000), String(parts[1]))
        }
        // Cursors made before sharding counted seconds.
        guard let seconds = Double(parts[0]) else { return nil }
        return (Date(timeIntervalSince1970: seconds), String(parts[1]))
    }
}

extension AcrossShards {
    /// The StageService queue (of each shard) that answers this request: the reads' queue unless it changes
    /// something.
    public static var stageQueue: String { ServiceQueues.stageQueries }
}

extension SubmitSurveyResponse {
    public static var stageQueue: String { ServiceQueues.stageCommands }
}
