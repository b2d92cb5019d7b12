import AsyncHTTPClient
import Contracts
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import SignedHTTP
import Synchronization
import Testing
import WorkflowKit

@testable import StageService

/// The generic `http.post` action: a custom workflow's stage output from the operator's own service.
@Suite("http.post action", .timeLimit(.minutes(1)))
struct HTTPPostActionTests {
    static let secret = "a-secret-of-some-length"

    /// A service that checks the signature and answers with JSON.
    final class Receiver: Sendable {
        let port: Int
        let bodies = Recorded<Data>()
        private let task: Task<Void, any Error>

        init(answer: String, status: HTTPResponse.Status = .ok) async {
            let bodies = self.bodies
            let router = Router()
            router.post("/hook") { request, _ -> Response in
                let body = Data(buffer: try await request.body.collect(upTo: 1 << 20))
                let timestamp = request.headers[HTTPField.Name("x-aiwf-timestamp")!] ?? ""
                let signature = request.headers[HTTPField.Name("x-aiwf-signature")!] ?? ""
                let expected = HMAC<SHA256>.authenticationCode(
                    for: Data("\(timestamp).".utf8) + body, using: SymmetricKey(data: Data(HTTPPostActionTests.secret.utf8))
                ).map { String(format: "%02x", $0) }.joined()
                guard signature == "sha256=" + expected else { return Response(status: .unauthorized) }
                _ = bodies.append(body)
                return Response(status: status, body: .init(byteBuffer: ByteBuffer(string: answer)))
            }
            let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
            let app = Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: quiet)
            task = Task { try await app.runService() }
            var iterator = ports.makeAsyncIterator()
            port = await iterator.next() ?? 0
        }

        func stop() { task.cancel() }
    }

    func workflow(endpoint: String) throws -> WorkflowDefinition {
        try customWorkflow(
            """
              - code: post
                name: Post
                sequence: 20
                execution_mode: system
                action: http.post
                endpoint: \(endpoint)
                auto_advance: true
                output_schema:
                  type: object
                  required: [published]
                  properties:
                    published: {type: boolean}
            """)
    }

    func action(allowing prefix: String) -> HTTPPostAction {
        var action = HTTPPostAction(
            poster: SignedPoster(client: .shared, secret: SymmetricKey(data: Data(Self.secret.utf8)), timeout: .seconds(5)),
            allowed: [prefix])
        action.backoff = .init(initial: .milliseconds(10), maximum: .milliseconds(20))
        return action
    }

    @Test func theAnswerBecomesTheStagesOutputAndTheContextWasSentSigned() async throws {
        let receiver = await Receiver(answer: #"{"published": true, "url": "https://example.test/p/1"}"#)
        defer { receiver.stop() }
        let base = "http://127.0.0.1:\(receiver.port)/"
        let bed = try await EngineBed(
            templates: FixedTemplates(extra: ["custom": try workflow(endpoint: base + "hook")]),
            actions: .standard(httpPost: action(allowing: base)))
        defer { bed.stop() }
        let project = try await bed.create("custom", params: ["topic": "bread"])
        let done = try await bed.run(project.id, until: .done)
        #expect(done.tasks.last?.content?.contains("example.test/p/1") == true)
        let sent = try #require(receiver.bodies.values.first)
        let context = try JSONValue.parse(sent)
        #expect(context["params"]?["topic"] == "bread")
        #expect(context["outputs"]?["draft"]?["title"] != nil, "the earlier stage's output went along")
    }

    @Test func aURLNotAllowListedOrAnAnswerOutsideTheSchemaFailsTheProjectClearly() async throws {
        let receiver = await Receiver(answer: #"{"published": "yes"}"#)
        defer { receiver.stop() }
        let base = "http://127.0.0.1:\(receiver.port)/"
        let notAllowed = try await EngineBed(
            templates: FixedTemplates(extra: ["custom": try workflow(endpoint: base + "hook")]),
            actions: .standard(httpPost: action(allowing: "https://elsewhere.test/")))
        defer { notAllowed.stop() }
        let first = try await notAllowed.run(try await notAllowed.create("custom", params: ["topic": "bread"]).id, until: .failed)
        #expect(first.project.message?.contains("not allow-listed") == true, "\(first.project.message ?? "")")
        #expect(receiver.bodies.values.isEmpty, "nothing was sent")

        let wrongAnswer = try await EngineBed(
            templates: FixedTemplates(extra: ["custom": try workflow(endpoint: base + "hook")]),
            actions: .standard(httpPost: action(allowing: base)))
        defer { wrongAnswer.stop() }
        let second = try await wrongAnswer.run(try await wrongAnswer.create("custom", params: ["topic": "bread"]).id, until: .failed)
        #expect(second.project.message?.contains("output_schema") == true, "\(second.project.message ?? "")")
    }

    @Test func aServerErrorIsTriedAgainAndAClientErrorIsNot() async throws {
        let failing = await Receiver(answer: "{}", status: .serviceUnavailable)
        defer { failing.stop() }
        let base = "http://127.0.0.1:\(failing.port)/"
        let input = ActionInput(
            projectID: "p", stageRunID: "r", projectName: "P", stage: try workflow(endpoint: base + "hook").stages[1], params: [:],
            outputs: [:], workspace: URL(fileURLWithPath: "/tmp"))
        await #expect(throws: SignedPostError.self) { _ = try await action(allowing: base).run(input) }
        #expect(failing.bodies.values.count == 3, "three attempts for a 503")

        let refusing = await Receiver(answer: "{}", status: .badRequest)
        defer { refusing.stop() }
        let other = "http://127.0.0.1:\(refusing.port)/"
        let refused = ActionInput(
            projectID: "p", stageRunID: "r", projectName: "P", stage: try workflow(endpoint: other + "hook").stages[1], params: [:],
            outputs: [:], workspace: URL(fileURLWithPath: "/tmp"))
        await #expect(throws: SignedPostError.self) { _ = try await action(allowing: other).run(refused) }
        #expect(refusing.bodies.values.count == 1, "a 400 is not tried again")
    }
}
