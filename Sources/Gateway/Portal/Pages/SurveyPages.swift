import Contracts
import Deliverables
import Foundation
import Hummingbird

/// `/portal/projects/{id}/survey`: a survey's answers for its owner, question by question (a bar per answer), with
/// the CSV export, which is the API's route mounted here.
struct SurveyPages {
    let views: PortalViews
    let backend: Backend

    struct Page {
        struct Question {
            struct Bar {
                var answer: String
                var count: Int
                var of: Int
            }
            var text: String
            var answered: Int
            var bars: [Bar]
            var mean: String?
            let anyBars: Bool
        }
        var chrome: Chrome
        var name: String
        var responses: Int
        var questions: [Question]
        var csv: String
        var project: String
    }

    func add(to portal: RouterGroup<APIContext>) {
        portal.get("projects/:id/survey") { _, context in try await page(context) }
        SurveyResultRoutes(backend: backend).add(to: portal)
    }

    private func page(_ context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try context.parameters.require("id")
        let project = try await backend.ask(GetProject(projectID: id), as: caller).project
        let (definition, responses) = try await SurveyResultRoutes(backend: backend).results(context)
        let summary = SurveySummary(definition, responses: responses)
        let questions = summary.questions.map { item in
            let bars = (item.counts ?? []).map { Page.Question.Bar(answer: $0.answer, count: $0.count, of: max(item.answered, 1)) }
            return Page.Question(
                text: item.text, answered: item.answered, bars: bars, mean: item.mean.map { String(format: "%.2f", $0) },
                anyBars: !bars.isEmpty)
        }
        let view = Page(
            chrome: Chrome(title: "Answers: \(project.name)", context: context, path: "/portal"), name: project.name,
            responses: summary.responses, questions: questions, csv: "/portal/projects/\(id)/survey/responses.csv",
            project: "/portal/projects/\(id)")
        return views.page("survey", view)
    }
}
