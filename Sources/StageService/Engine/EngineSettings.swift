import Foundation
import RuntimeSupport

/// The engine's knobs; the defaults suit a single machine.
struct EngineSettings: Sendable {
    /// Generations per task before it fails: the first, and repairs of output that broke its contract.
    var maximumAttempts = 3
    /// Retryable provider failures per generation before the task fails.
    var maximumFailedSends = 5
    /// How long a sent task may go without a result before it is sent again with the same request id.
    var lease: TimeInterval = 900
    /// How often a task is sent again after its lease ran out before it fails.
    var maximumLeaseRenewals = 3
    /// Tasks of one project in flight at once; the rest wait their turn, so a big project never starves small ones.
    var tasksInFlightPerProject = 4
    /// Tasks sent per dispatch pass, taken from the projects in turn.
    var dispatchBatch = 128
    /// The wait before a retryable failure is sent again.
    var retryBackoff = Backoff(initial: .seconds(2), maximum: .seconds(300))
    /// How long an approval waits before it expires (the project then fails with `expired`); none by default.
    var approvalExpiryDays: Double?
    /// The queue ProviderGateway streams answers to as they are written (`GenerationChunk`), passed on to live
    /// views as `TaskTextStreamed`; nil asks for no streaming.
    var streamTo: String? = StageService.chunksQueue
    /// Where system actions write their files.
    var artifactsDirectory = URL(fileURLWithPath: "data/artifacts")
}
