import Contracts
import Deliverables
import Foundation
import GRDB

/// Serves what projects published: site files to the Gateway's `/sites/`, survey forms and their responses.
struct PublishedWork: Sendable {
    let database: any DatabaseWriter
    let publications: Publications
    let clock: @Sendable () -> Date

    func file(_ request: GetPublishedFile) throws -> PublishedFile {
        guard publications.siteExists(request.slug) else { throw StageError.notFound("no site is published at '\(request.slug)'") }
        if let file = publications.siteFile(request.slug, path: request.path) {
            return PublishedFile(found: true, path: file.path, sha256: ProjectWork.sha256(file.data), data: file.data)
        }
        let page = publications.siteFile(request.slug, path: "404.html")?.data ?? Data("Not found".utf8)
        return PublishedFile(found: false, path: "404.html", sha256: ProjectWork.sha256(page), data: page)
    }

    func survey(_ request: GetSurvey) throws -> SurveyDocument {
        guard let survey = publications.survey(request.surveyID) else {
            throw StageError.notFound("no survey has the id '\(request.surveyID)'")
        }
        return SurveyDocument(surveyID: request.surveyID, definition: try Self.json(survey.definition))
    }

    func submit(_ request: SubmitSurveyResponse) async throws -> SurveySubmission {
        guard let survey = publications.survey(request.surveyID) else {
            throw StageError.notFound("no survey has the id '\(request.surveyID)'")
        }
        let checked = survey.definition.check(request.answers)
        guard checked.errors.isEmpty else { return SurveySubmission(responseID: nil, errors: checked.errors) }
        let id = UUID().uuidString.lowercased()
        let answers = String(decoding: try JSONEncoder().encode(checked.answers), as: UTF8.self)
        let now = clock()
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO surveyResponse (id, surveyID, projectID, answers, submittedAt) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, request.surveyID, survey.projectID, answers, now])
        }
        return SurveySubmission(responseID: id, errors: [:])
    }

    func results(_ request: GetSurveyResults, actor: Actor?) async throws -> SurveyResults {
        let owner = try Engine.owner(actor)
        let surveyID = PublishSurveyAction.surveyID(for: request.projectID)
        let rows = try await database.read { db -> [Row]? in
            guard let project = try ProjectRecord.fetchOne(db, key: request.projectID), Engine.mayAct(owner, on: project) else {
                return nil
            }
            return try Row.fetchAll(
                db, sql: "SELECT id, answers, submittedAt FROM surveyResponse WHERE surveyID = ? ORDER BY submittedAt, id",
                arguments: [surveyID])
        }
        guard let rows else { throw StageError.notFound("no project has the id '\(request.projectID)'") }
        guard let survey = publications.survey(surveyID) else {
            throw StageError.notFound("project '\(request.projectID)' has published no survey yet")
        }
        let responses = try rows.map { row in
            SurveyResponse(
                id: row["id"], submittedAt: row["submittedAt"],
                answers: try JSONDecoder().decode([String: [String]].self, from: Data((row["answers"] as String).utf8)))
        }
        return SurveyResults(surveyID: surveyID, definition: try Self.json(survey.definition), responses: responses)
    }

    static func json(_ value: some Encodable) throws -> JSONValue {
        try JSONValue.parse(try JSONEncoder().encode(value))
    }
}
