import Contracts
import Foundation
import HTTPTypes
import Hummingbird

/// `GET /api/v1/projects/{id}/events`: the project's log as server-sent events, from `Last-Event-ID` (or `?after=`)
/// on, then live; task text as it streams (`event: task.text`, no id: it is not kept); a comment every
/// `heartbeat` so proxies keep the connection. With `?follow=false` it ends after what the log holds.
struct EventStreamRoute {
    let backend: Backend
    let live: LiveEvents
    var heartbeat: Duration = .seconds(15)

    func add(to group: RouterGroup<APIContext>) {
        group.get("projects/:id/events") { request, context in try await stream(request, context) }
    }

    private func stream(_ request: Request, _ context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try context.parameters.require("id")
        let after = try Self.start(request)
        let follow = request.uri.queryParameters["follow"] != "false"
        // Listening starts before the log is read, so nothing falls between the two.
        let events = live.subscribe(id)
        let first = try await backend.ask(GetProjectEvents(projectID: id, after: after, limit: 1000), as: caller)
        let backend = self.backend
        let heartbeat = self.heartbeat
        let body = ResponseBody { writer in
            var last = after
            func send(_ entry: ProjectEvent) async throws {
                guard entry.sequence > last else { return }
                try await writer.write(ByteBuffer(string: Self.frame(entry)))
                last = entry.sequence
            }
            func catchUp() async throws {
                while true {
                    let page = try await backend.ask(GetProjectEvents(projectID: id, after: last, limit: 1000), as: caller)
                    for entry in page { try await send(entry) }
                    if page.count < 1000 { return }
                }
            }
            for entry in first { try await send(entry) }
            if first.count == 1000 { try await catchUp() }
            guard follow else { return try await writer.finish(nil) }
            try await writer.write(ByteBuffer(string: ": live\n\n"))
            let merged = Self.withHeartbeat(events, every: heartbeat)
            for await event in merged {
                switch event {
                case nil:
                    try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                case .logged(let entry) where entry.sequence == last + 1:
                    try await send(entry)
                case .logged(let entry) where entry.sequence > last + 1:
                    try await catchUp()  // something was missed on the fast path: the log has it
                case .logged, .owned:
                    break
                case .text(let text):
                    try await writer.write(ByteBuffer(string: Self.textFrame(text)))
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: Self.headers, body: body)
    }

    /// The headers of an event stream: not cached, and not buffered by a proxy in front.
    static let headers: HTTPFields = [
        .contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no",
    ]

    /// `events` with a nil every `interval` between them, for a heartbeat comment; it ends when `events` does.
    static func withHeartbeat(_ events: AsyncStream<LiveEvent>, every interval: Duration) -> AsyncStream<LiveEvent?> {
        AsyncStream<LiveEvent?> { continuation in
            let forward = Task {
                for await event in events { continuation.yield(event) }
                continuation.finish()
            }
            let beat = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    continuation.yield(nil)
                }
            }
            continuation.onTermination = { _ in
                forward.cancel()
                beat.cancel()
            }
        }
    }

    /// Where the stream starts: after `Last-Event-ID` or `?after=`, else from the beginning.
    static func start(_ request: Request) throws -> Int {
        guard let text = request.headers[.lastEventID] ?? request.uri.queryParameters["after"].map(String.init) else { return 0 }
        guard text.count <= 12, let number = Int(text.trimmingCharacters(in: .whitespaces)), number >= 0 else {
            throw APIError.badRequest(
                "Last-Event-ID (or ?after=) must be the sequence number of an event, a whole number from 0",
                details: [.init(pointer: "/Last-Event-ID", message: "got '\(text.prefix(40))'")])
        }
        return number
    }

    static func frame(_ entry: ProjectEvent) -> String {
        let data = String(decoding: (try? JSONEncoder.api.encode(entry)) ?? Data(), as: UTF8.self)
        return "id: \(entry.sequence)\nevent: \(entry.kind)\ndata: \(data)\n\n"
    }

    static func textFrame(_ text: TaskTextStreamed) -> String {
        struct Piece: Encodable {
            var taskID: String
            var attempt: Int
            var index: Int
            var text: String
        }
        let piece = Piece(taskID: text.taskID, attempt: text.attempt, index: text.index, text: text.text)
        let data = String(decoding: (try? JSONEncoder.api.encode(piece)) ?? Data(), as: UTF8.self)
        return "event: task.text\ndata: \(data)\n\n"
    }
}
