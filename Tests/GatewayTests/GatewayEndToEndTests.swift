import AsyncHTTPClient
import Contracts
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import ServiceTestSupport
import Testing

/// The whole system as separate processes on RabbitMQ, used only through the Gateway's HTTP API with an API key:
/// a website project from create to done, followed on its event stream, its approvals decided over the API.
@Suite("Gateway end to end", .serialized, .timeLimit(.minutes(6)))
struct GatewayEndToEndTests {
    /// A client of the API with one key.
    struct API {
        let base: String
        var authorization: String

        func call(_ method: HTTPMethod, _ path: String, body: String? = nil) async throws -> (status: Int, body: JSONValue) {
            var request = HTTPClientRequest(url: base + path)
            request.method = method
            request.headers.add(name: "Authorization", value: authorization)
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: body))
            }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
            let data = Data(buffer: try await response.body.collect(upTo: 8 << 20))
            return (Int(response.status.code), (try? JSONValue.parse(data)) ?? .null)
        }

        func download(_ path: String, headers: [String: String] = [:]) async throws -> (status: Int, headers: HTTPHeaders, data: Data) {
            var request = HTTPClientRequest(url: base + path)
            request.headers.add(name: "Authorization", value: authorization)
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
            return (Int(response.status.code), response.headers, Data(buffer: try await response.body.collect(upTo: 64 << 20)))
        }

        /// Reads the project's event stream from `after` until `stop` says so (or `timeout`); the connection is then
        /// dropped. Returns the sequence numbers and kinds read, and how many task text pieces came.
        func events(_ project: String, after: Int?, timeout: Duration = .seconds(60), stop: @escaping ([(Int, String)]) -> Bool)
            async throws -> (events: [(Int, String)], texts: Int)
        {
            var request = HTTPClientRequest(url: base + "/api/v1/projects/\(project)/events")
            request.headers.add(name: "Authorization", value: authorization)
            if let after { request.headers.add(name: "Last-Event-ID", value: String(after)) }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(90))
            #expect(response.status.code == 200)
            var events: [(Int, String)] = []
            var texts = 0
            var pending = ""
            let deadline = ContinuousClock.now + timeout
            for try await chunk in response.body {
                pending += String(buffer: chunk)
                while let end = pending.range(of: "\n\n") {
                    let frame = pending[..<end.lowerBound]
                    pending = String(pending[end.upperBound...])
                    let fields = Dictionary(
                        frame.split(separator: "\n").compactMap { line -> (String, String)? in
                            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else { return nil }
                            return (String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
                        }, uniquingKeysWith: { $1 })
                    if fields["event"] == "task.text" { texts += 1 }
                    if let id = fields["id"].flatMap(Int.init), let kind = fields["event"] { events.append((id, kind)) }
                }
                if stop(events) || ContinuousClock.now > deadline { break }
            }
            return (events, texts)
        }
    }

    /// The Gateway in front of ProviderGateway (local provider), with an admin's key.
    static func startCompatSystem() async throws -> (TestSystem, String, String) {
        let system = try await TestSystem(repository: repository)
        let (ready, problem) = try await system.start(
            "ProviderGateway", ["--providers", repository.appendingPathComponent("providers.yaml").path])
        #expect(ready, "\(problem)")
        let (base, key, _) = try await system.startGateway()
        return (system, base, key)
    }

    @Test func theOfficialOpenAIAndAnthropicClientsWorkAgainstTheGateway() async throws {
        let (system, base, key) = try await Self.startCompatSystem()
        defer { system.stop() }
        let script = repository.appendingPathComponent("Tests/GatewayTests/Scripts/sdk_check.py").path
        let result = try await runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script, base, key])
        let text = result.output + result.errors
        #expect(result.status == 0, "\(text)")
        #expect(text.contains("all checks passed"), "\(text)")
        let admin = API(base: base, authorization: "Bearer \(key)")
        let providers = try await admin.call(.GET, "/api/v1/admin/providers")
        #expect(providers.body.arrayValue?.first?["name"] == "local", "\(providers.body)")
        #expect(providers.body.arrayValue?.first?["laneDepth"] == 0)
        let dead = try await admin.call(.GET, "/api/v1/admin/dead-letters")
        #expect(dead.status == 200)
        #expect(dead.body["queues"]?["provider.lane.local.dead"] == 0, "\(dead.body)")
        let keys = try await admin.call(.GET, "/api/v1/keys").body
        #expect((keys.arrayValue?.first?["requests"]?.numberValue ?? 0) >= 4, "usage counted on the key: \(keys)")
    }

    /// Schemathesis generates requests from the served document (examples, edge cases, fuzzing, stateful runs):
    /// no answer may be a 5xx, and every answer must match the document. The streaming routes are left to the tests
    /// above (an unending stream has no response to check).
    @Test func schemathesisFindsNoServerErrorAndNoAnswerOutsideTheDocument() async throws {
        let system = try await TestSystem(repository: repository)
        defer { system.stop() }
        let problems = try await system.startEngine()
        #expect(problems.isEmpty, "\(problems)")
        let (base, key, _) = try await system.startGateway(["--key-rate", "1000000"])
        let result = try await runProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", "-m", "schemathesis.cli", "run", base + "/api/v1/openapi.yaml", "--url", base, "-H",
                "Authorization: Bearer \(key)",
                "--checks", "not_a_server_error,response_schema_conformance", "--max-examples", "10", "--seed", "1",
                "--exclude-path-regex", "events|/v1/(chat|messages|models)",
            ])
        let text = result.output + result.errors
        #expect(result.status == 0, "\(text.suffix(4000))")
        #expect(text.contains("passed"), "\(text.suffix(2000))")
    }

    /// The whole system with the Gateway in front, and a client with the first admin's key.
    static func startSystem() async throws -> (TestSystem, API) {
        let system = try await TestSystem(repository: repository)
        let problems = try await system.startEngine()
        #expect(problems.isEmpty, "\(problems)")
        let (base, key, _) = try await system.startGateway()
        return (system, API(base: base, authorization: "Bearer \(key)"))
    }

    @Test func aWebsiteProjectRunsToDoneThroughTheAPIFollowedOnItsEventStream() async throws {
        let (system, api) = try await Self.startSystem()
        defer { system.stop() }

        let params = """
            {"company_name": "Acme Bakery", "industry": "bakery", "website_type": "business", "page_count": 3, \
            "target_audience": "families nearby", "description": "A neighbourhood bakery that sells bread and cakes every day."}
            """
        let created = try await api.call(
            .POST, "/api/v1/projects", body: #"{"template": "website", "name": "Acme", "start": true, "params": \#(params)}"#)
        #expect(created.status == 201, "\(created.body)")
        let id = try #require(created.body["id"]?.stringValue)

        // The stream up to the design approval, dropped there and taken up again from the last id seen.
        let first = try await api.events(id, after: nil) { events in events.contains { $0.1 == "approval.requested" } }
        #expect(first.events.contains { $0.1 == "approval.requested" }, "\(first.events.map(\.1))")
        #expect(first.texts > 0, "task text streamed as it was written")
        let last = first.events.last?.0 ?? 0

        var decided = 0
        var changesRequested = false
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let state = try await api.call(.GET, "/api/v1/projects/\(id)").body["project"]?["state"]
            if state == "done" || state == "failed" { break }
            let pending = try await api.call(.GET, "/api/v1/approvals").body.arrayValue ?? []
            guard let approval = pending.first(where: { $0["projectID"]?.stringValue == id }), let approvalID = approval["id"]?.stringValue
            else {
                try await Task.sleep(for: .milliseconds(100))
                continue
            }
            let hash = approval["contentHash"]?.stringValue ?? ""
            let items = approval["items"]?.arrayValue ?? []
            var body = #"{"decision": "approve", "contentHash": "\#(hash)"}"#
            if approval["stage"] == "content_review", !changesRequested, let firstItem = items.first?["id"]?.stringValue {
                let rest = items.dropFirst().compactMap { $0["id"]?.stringValue }.map { #"{"itemID": "\#($0)", "decision": "approve"}"# }
                let decisions = [#"{"itemID": "\#(firstItem)", "decision": "request_changes", "feedback": "Mention the sourdough"}"#] + rest
                body = #"{"decision": "request_changes", "contentHash": "\#(hash)", "items": [\#(decisions.joined(separator: ", "))]}"#
                changesRequested = true
            }
            let decision = try await api.call(.POST, "/api/v1/approvals/\(approvalID)/decision", body: body)
            #expect(decision.status == 200, "\(decision.body)")
            decided += 1
        }
        let detail = try await api.call(.GET, "/api/v1/projects/\(id)").body
        #expect(detail["project"]?["state"] == "done", "\(detail["project"] ?? .null)")
        #expect(changesRequested && decided >= 3)
        let pages = detail["tasks"]?.arrayValue?.filter { $0["stage"] == "page_content" } ?? []
        #expect(pages.contains { $0["feedback"]?.stringValue == "Mention the sourdough" }, "the page asked about was written again")

        let rest = try await api.events(id, after: last) { events in events.contains { $0.1 == "project.completed" } }
        let sequences = first.events.map(\.0) + rest.events.map(\.0)
        #expect(sequences == Array(1...(sequences.last ?? 0)), "every event once, in order, across the reconnect")
        #expect(try await api.call(.GET, "/api/v1/projects/\(id)/usage").body["lines"]?.arrayValue?.isEmpty == false)

        // An artifact downloads whole, by range, and not again when unchanged.
        let artifact = try #require(detail["artifacts"]?.arrayValue?.first)
        let path = "/api/v1/projects/\(id)/artifacts/\(artifact["id"]?.stringValue ?? "")/content"
        let whole = try await api.download(path)
        #expect(whole.status == 200)
        #expect(whole.headers["content-type"].first == artifact["mediaType"]?.stringValue)
        #expect(whole.headers["content-length"].first == artifact["size"].map { "\(Int($0.numberValue ?? 0))" })
        #expect(whole.headers["etag"].first == "\"\(artifact["sha256"]?.stringValue ?? "")\"")
        #expect(SHA256.hash(data: whole.data).map { String(format: "%02x", $0) }.joined() == artifact["sha256"]?.stringValue)
        let part = try await api.download(path, headers: ["Range": "bytes=0-9"])
        #expect(part.status == 206)
        #expect(part.data == whole.data.prefix(10))
        #expect(part.headers["content-range"].first == "bytes 0-9/\(whole.data.count)")
        #expect(try await api.download(path, headers: ["If-None-Match": whole.headers["etag"].first ?? ""]).status == 304)
        #expect(try await api.download(path, headers: ["Range": "bytes=99999999-"]).status == 416)

        // The published site, served at /sites/<slug>/ from StageService's published copy.
        let published = try #require(detail["tasks"]?.arrayValue?.first { $0["stage"] == "publish" }?["content"]?.stringValue)
        let url = try #require(try JSONValue.parse(Data(published.utf8))["url"]?.stringValue)
        let site = url.replacingOccurrences(of: "http://localhost:8080", with: "")
        #expect(site.hasPrefix("/sites/acme-bakery") && site.hasSuffix("/"), "\(site)")
        let home = try await api.download(site)
        #expect(home.status == 200)
        #expect(home.headers["content-type"].first == "text/html; charset=utf-8")
        #expect(String(decoding: home.data, as: UTF8.self).contains("<title>Acme Bakery</title>"))
        let etag = try #require(home.headers["etag"].first)
        #expect(home.headers["cache-control"].first == "public, max-age=0, must-revalidate")
        #expect(try await api.download(site, headers: ["If-None-Match": etag]).status == 304)
        let css = try await api.download(site + "style.css")
        #expect(css.status == 200 && css.headers["content-type"].first == "text/css; charset=utf-8")
        let missing = try await api.download(site + "no-such-page.html")
        #expect(
            missing.status == 404 && String(decoding: missing.data, as: UTF8.self).contains("Page not found"), "the site's own 404 page")
        #expect(try await api.download(site + "..%2F..%2Fowner").status == 404, "nothing outside the site is read")
        #expect(try await api.download("/sites/no-such-site/").status == 404)
    }

    /// Approves every gate of `id` until it is done (or failed); returns the project's detail.
    static func approveUntilDone(_ api: API, _ id: String) async throws -> JSONValue {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let state = try await api.call(.GET, "/api/v1/projects/\(id)").body["project"]?["state"]
            if state == "done" || state == "failed" { break }
            let pending = try await api.call(.GET, "/api/v1/approvals").body.arrayValue ?? []
            if let approval = pending.first(where: { $0["projectID"]?.stringValue == id }), let approvalID = approval["id"]?.stringValue {
                let body = #"{"decision": "approve", "contentHash": "\#(approval["contentHash"]?.stringValue ?? "")"}"#
                _ = try await api.call(.POST, "/api/v1/approvals/\(approvalID)/decision", body: body)
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        return try await api.call(.GET, "/api/v1/projects/\(id)").body
    }

    @Test func aPublishedSurveyIsFilledInOnItsPublicFormAndItsOwnerReadsTheAnswers() async throws {
        let (system, api) = try await Self.startSystem()
        defer { system.stop() }
        let base = api.base
        let params =
            #"{"title": "Patient survey", "purpose": "Learn what patients value so we can improve.", "respondents": "patients", "question_count": 6}"#
        let created = try await api.call(
            .POST, "/api/v1/projects", body: #"{"template": "survey", "name": "Survey", "start": true, "params": \#(params)}"#)
        let id = try #require(created.body["id"]?.stringValue)
        let detail = try await Self.approveUntilDone(api, id)
        #expect(detail["project"]?["state"] == "done", "\(detail["project"] ?? .null)")
        let output = try #require(detail["tasks"]?.arrayValue?.first { $0["stage"] == "publish" }?["content"]?.stringValue)
        let form =
            try JSONValue.parse(Data(output.utf8))["url"]?.stringValue?.replacingOccurrences(of: "http://localhost:8080", with: "") ?? ""
        #expect(form.hasPrefix("/s/"))

        let page = try await api.download(form)
        #expect(page.status == 200 && String(decoding: page.data, as: UTF8.self).contains("<form method=\"post\""))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        defer { _ = client.shutdown() }
        func post(_ fields: String) async throws -> (Int, String, String) {
            var request = HTTPClientRequest(url: base + form)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: fields))
            let response = try await client.execute(request, timeout: .seconds(20))
            let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            return (Int(response.status.code), response.headers["location"].first ?? "", body)
        }
        let empty = try await post("")
        #expect(empty.0 == 422 && empty.2.contains("Please answer this question."), "\(empty.0)")

        var summary = try await api.call(.GET, "/api/v1/projects/\(id)/survey/summary").body
        var answers: [String] = []
        for question in summary["questions"]?.arrayValue ?? [] {
            let name = question["question"]?.stringValue ?? ""
            let value: String
            switch question["type"]?.stringValue ?? "" {
            case "number": value = "5"
            case "email": value = "pat@example.com"
            case "date": value = "2026-11-30"
            case "text", "long_text": value = "Friendly staff & short waits"
            default: value = question["counts"]?.arrayValue?.first?["answer"]?.stringValue ?? ""
            }
            answers.append("\(name)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
        }
        let robot = try await post(answers.joined(separator: "&") + "&website=spam")
        #expect(robot.0 == 303, "a robot is thanked")
        let sent = try await post(answers.joined(separator: "&"))
        #expect(sent.0 == 303 && sent.1 == form + "?sent=1", "\(sent)")
        #expect(String(decoding: try await api.download(sent.1).data, as: UTF8.self).contains("Thank you"))

        summary = try await api.call(.GET, "/api/v1/projects/\(id)/survey/summary").body
        #expect(summary["responses"] == 1, "the robot's answers were not kept")
        let csv = try await api.download("/api/v1/projects/\(id)/survey/responses.csv")
        #expect(csv.status == 200 && csv.headers["content-type"].first == "text/csv; charset=utf-8")
        let lines = String(decoding: csv.data, as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 2 && lines[1].contains("Friendly staff & short waits"), "\(lines)")
    }
}
