/// The names of the services and of the queues they own, shared so a sender and its consumer agree.
public enum ServiceQueues {
    /// TemplateService: template queries and upserts.
    public static let templateCommands = "template.commands"
    /// StageService: project commands and queries.
    public static let stageCommands = "stage.commands"
    /// ApprovalService: `RequestApproval` commands.
    public static let approvalCommands = "approval.commands"
    /// ApprovalService: decisions and queries (request/reply).
    public static let approvalRequests = "approval.requests"
    /// Gateway: events it turns into live progress for its clients.
    public static let gatewayEvents = "gateway.events"
}
