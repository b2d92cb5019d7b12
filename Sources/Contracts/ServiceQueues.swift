/// The names of the services and of the queues they own, shared so a sender and its consumer agree.
public enum ServiceQueues {
    /// TemplateService: template queries and upserts.
    public static let templateCommands = "template.commands"
    /// StageService: project commands (create, change).
    public static let stageCommands = "stage.commands"
    /// StageService: project reads (transient).
    public static let stageQueries = "stage.queries"
    /// StageService: `ContentGenerated` / `GenerationFailed` from the events exchange.
    public static let stageResults = "stage.generation-results"
    /// StageService: `ApprovalDecided` / `ApprovalExpired` from the events exchange.
    public static let stageApprovalOutcomes = "stage.approval-outcomes"
    /// StageService: `GenerationChunk`s ProviderGateway streams to it.
    public static let stageChunks = "stage.generation-chunks"
    /// ProviderGateway: queries any replica answers (price list, status).
    public static let providerRequests = "provider.requests"
    /// ApprovalService: `RequestApproval` commands.
    public static let approvalCommands = "approval.commands"
    /// ApprovalService: decisions and queries (request/reply).
    public static let approvalRequests = "approval.requests"
    /// Gateway: events it turns into live progress for its clients.
    public static let gatewayEvents = "gateway.events"
}
