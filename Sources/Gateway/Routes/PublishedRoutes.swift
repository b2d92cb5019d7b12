import Contracts
import Deliverables
import Foundation
import HTTPTypes
import Hummingbird
import Messaging

/// What projects published, for anyone with the link: websites at `/sites/<slug>/…` and survey forms at `/s/<id>`,
/// read from StageService's published copies over the bus. No sign-in; survey submissions are rate limited per
/// client and carry a honeypot field.
struct PublishedRoutes {
    let backend: Backend
    /// Survey submissions per client and survey.
    let submissions: RateLimiter

    func add(to router: Router<APIContext>) {
        router.get("sites/:slug") { request, context in try await site(request, context) }
        router.get("sites/:slug/**") { request, context in try await site(request, context) }
        router.get("s/:id") { request, context in try await surveyForm(request, context) }
        router.post("s/:id") { request, context in try await submit(request, context) }
    }

    // MARK: Sites

    private func site(_ request: Request, _ context: APIContext) async throws -> Response {
        let slug = try context.parameters.require("slug")
        let path = context.parameters.getCatchAll().joined(separator: "/")
        // Pages link to each other relatively: the site's root must end in a slash.
        if path.isEmpty && !request.uri.path.hasSuffix("/") {
            return Response(status: .movedPermanently, headers: [.location: "/sites/\(slug)/"])
        }
        let file: PublishedFile
        do {
            file = try await backend.ask(GetPublishedFile(slug: slug, path: path + (request.uri.path.hasSuffix("/") ? "/" : "")), as: nil)
        } catch let error as RemoteError where error.code == "not-found" {
            return Self.page(.notFound, title: "No site here", message: "No website is published at this address.")
        }
        let etag = "\"\(file.sha256)\""
        let isPage = file.path.hasSuffix(".html")
        var headers: HTTPFields = [
            .contentType: MediaType.forPath(file.path), .eTag: etag,
            .cacheControl: isPage ? "public, max-age=0, must-revalidate" : "public, max-age=3600",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        ]
        if file.found, Self.matches(request.headers[.ifNoneMatch], etag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(file.data.count)
        return Response(
            status: file.found ? .ok : .notFound, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: file.data)))
    }

    /// Whether an `If-None-Match` header names `etag` (or `*`).
    static func matches(_ header: String?, _ etag: String) -> Bool {
        header?.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == etag || $0 == "*" } ?? false
    }

    // MARK: Surveys

    private func definition(_ id: String) async throws -> SurveyDefinition? {
        do {
            let document = try await backend.ask(GetSurvey(surveyID: id), as: nil)
            return try document.definition.decode(SurveyDefinition.self, as: "the survey")
        } catch let error as RemoteError where error.code == "not-found" {
            return nil
        }
    }

    private func surveyForm(_ request: Request, _ context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let definition = try await definition(id) else { return Self.noSurvey }
        if request.uri.queryParameters["sent"] != nil {
            return Self.page(.ok, title: "Thank you", message: "Your answers to “\(definition.title)” were received.")
        }
        return Self.html(.ok, SurveyForm.html(definition, action: "/s/\(id)"))
    }

    private func submit(_ request: Request, _ context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let client = request.headers[HTTPField.Name("X-Forwarded-For")!]?.split(separator: ",").first.map(String.init) ?? "direct"
        if let wait = submissions.admit("survey:\(id):\(client)") {
            var response = Self.page(
                .tooManyRequests, title: "Too many answers", message: "Please wait a minute and send your answers again.")
            response.headers[.retryAfter] = String(wait)
            return response
        }
        guard let definition = try await definition(id) else { return Self.noSurvey }
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024)
        let fields = FormFields(String(buffer: body)).values
        let thanks = Response(status: .seeOther, headers: [.location: "/s/\(id)?sent=1"])
        // A robot fills in every field, the hidden one too: it is thanked and nothing is kept.
        if !(fields[SurveyForm.honeypot] ?? []).allSatisfy({ $0.isEmpty }) { return thanks }
        let answers = fields.filter { key, _ in definition.questions.contains { $0.id == key } }
        let outcome = try await backend.ask(SubmitSurveyResponse(surveyID: id, answers: answers), as: nil)
        guard outcome.errors.isEmpty else {
            return Self.html(
                .unprocessableContent, SurveyForm.html(definition, action: "/s/\(id)", values: answers, errors: outcome.errors))
        }
        return thanks
    }

    static var noSurvey: Response { page(.notFound, title: "No survey here", message: "No survey is published at this address.") }

    static func page(_ status: HTTPResponse.Status, title: String, message: String) -> Response {
        html(
            status,
            """
            <!DOCTYPE html>
            <html lang="en">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>\(HTML.escape(title))</title></head>
            <body><main><h1>\(HTML.escape(title))</h1><p>\(HTML.escape(message))</p></main></body>
            </html>

            """)
    }

    static func html(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: MediaType.html, .cacheControl: "no-store", HTTPField.Name("X-Content-Type-Options")!: "nosniff"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// A survey project's answers for its owner: the CSV export and the summary.
struct SurveyResultRoutes {
    let backend: Backend

    func add(to group: RouterGroup<APIContext>) {
        group.get("projects/:id/survey/responses.csv") { _, context in
            let (definition, responses) = try await results(context)
            return Response(
                status: .ok,
                headers: [
                    .contentType: MediaType.csv, .cacheControl: "private, no-cache",
                    .contentDisposition: "attachment; filename=\"\(definition.id)-responses.csv\"",
                ],
                body: ResponseBody(byteBuffer: ByteBuffer(string: SurveyCSV.export(definition, responses: responses))))
        }
        group.get("projects/:id/survey/summary") { _, context in
            let (definition, responses) = try await results(context)
            return JSONResponse(SurveySummary(definition, responses: responses))
        }
    }

    /// The survey of project `:id` and its responses, for its owner.
    func results(_ context: APIContext) async throws -> (SurveyDefinition, [SurveyResponse]) {
        let results = try await backend.ask(GetSurveyResults(projectID: try context.parameters.require("id")), as: try context.caller())
        let definition = try results.definition.decode(SurveyDefinition.self, as: "the survey")
        return (definition, results.responses)
    }
}
