import Foundation

/// A file of a published website, asked for by the Gateway serving `/sites/<slug>/<path>`. Public: no actor needed.
public struct GetPublishedFile: Request {
    public typealias Reply = PublishedFile
    public static let type = "stage.published-file.v1"

    public var slug: String
    public var path: String

    public init(slug: String, path: String) {
        self.slug = slug
        self.path = path
    }
}

/// The file asked for, or (`found` false) the site's own 404 page; the request fails `not-found` when no site has
/// the slug.
public struct PublishedFile: Codable, Sendable, Equatable {
    public var found: Bool
    public var path: String
    public var sha256: String
    public var data: Data

    public init(found: Bool, path: String, sha256: String, data: Data) {
        self.found = found
        self.path = path
        self.sha256 = sha256
        self.data = data
    }
}

/// A published survey's definition (as JSON), for its public form at `/s/<id>`.
public struct GetSurvey: Request {
    public typealias Reply = SurveyDocument
    public static let type = "stage.survey.v1"

    public var surveyID: String

    public init(surveyID: String) {
        self.surveyID = surveyID
    }
}

public struct SurveyDocument: Codable, Sendable, Equatable {
    public var surveyID: String
    public var definition: JSONValue

    public init(surveyID: String, definition: JSONValue) {
        self.surveyID = surveyID
        self.definition = definition
    }
}

/// Answers someone gave on a survey's public form, by question id. Checked against the definition (required
/// questions, choices, bounds, skip logic): when something is wrong nothing is stored and the reply lists it.
public struct SubmitSurveyResponse: Request {
    public typealias Reply = SurveySubmission
    public static let type = "stage.submit-survey-response.v1"

    public var surveyID: String
    public var answers: [String: [String]]

    public init(surveyID: String, answers: [String: [String]]) {
        self.surveyID = surveyID
        self.answers = answers
    }
}

/// What became of a submission: stored (with its id), or the problems by question id.
public struct SurveySubmission: Codable, Sendable, Equatable {
    public var responseID: String?
    public var errors: [String: String]

    public init(responseID: String?, errors: [String: String]) {
        self.responseID = responseID
        self.errors = errors
    }
}

/// A survey project's published definition and every stored response, for its owner.
public struct GetSurveyResults: Request, ProjectScoped {
    public typealias Reply = SurveyResults
    public static let type = "stage.survey-results.v1"

    public var projectID: String

    public init(projectID: String) {
        self.projectID = projectID
    }
}

/// One stored response to a survey: its answers by question id.
public struct SurveyResponse: Codable, Sendable, Equatable {
    public var id: String
    public var submittedAt: Date
    public var answers: [String: [String]]

    public init(id: String, submittedAt: Date, answers: [String: [String]]) {
        self.id = id
        self.submittedAt = submittedAt
        self.answers = answers
    }
}

public struct SurveyResults: Codable, Sendable, Equatable {
    public var surveyID: String
    public var definition: JSONValue
    public var responses: [SurveyResponse]

    public init(surveyID: String, definition: JSONValue, responses: [SurveyResponse]) {
        self.surveyID = surveyID
        self.definition = definition
        self.responses = responses
    }
}
