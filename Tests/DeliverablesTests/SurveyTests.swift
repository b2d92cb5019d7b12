import Contracts
import Deliverables
import Foundation
import Testing

@Suite struct SurveyTests {
    typealias Question = SurveyDefinition.Question

    static let questions: [Question] = [
        Question(
            id: "visited", section: "Your visit", text: "Have you visited us?", type: .singleChoice, required: true, options: ["Yes", "No"]),
        Question(
            id: "rating", text: "How was it?", type: .rating, required: true,
            scale: .init(min: 1, max: 5, min_label: "Poor", max_label: "Great"), show_if: .init(question: "visited", equals: "Yes")),
        Question(
            id: "liked", text: "What did you like?", type: .multipleChoice, required: false,
            options: ["Staff", "Prices, \"fair\"", "Rooms"]),
        Question(id: "age", text: "Your age", type: .number, required: false, validation: .init(min: 16, max: 120)),
        Question(id: "email", text: "Your e-mail", type: .email, required: false),
        Question(id: "comments", text: "Anything else?", type: .longText, required: false),
    ]

    static let definition = SurveyDefinition(
        id: "s1", title: "Patient survey", description: "Tell us.", anonymous: true, questions: questions)

    @Test func theDefinitionRoundTripsAndIsValid() throws {
        let data = try JSONEncoder().encode(Self.definition)
        #expect(try JSONDecoder().decode(SurveyDefinition.self, from: data) == Self.definition)
        #expect(Self.definition.problems().isEmpty)
        let fromOutputs = try SurveyDefinition(
            id: "s1", params: ["title": "Patient survey", "purpose": "Tell us.", "anonymous": true],
            outputs: ["questions": try JSONValue.parse(try JSONEncoder().encode(["questions": Self.questions]))])
        #expect(fromOutputs == Self.definition)
    }

    @Test(arguments: [
        (
            Question(id: "x", text: "Why?", type: .text, required: false, show_if: .init(question: "nowhere", equals: "Yes")),
            "does not exist"
        ),
        (
            Question(id: "x", text: "Why?", type: .text, required: false, show_if: .init(question: "x", equals: "Yes")),
            "the question itself"
        ),
        (Question(id: "x", text: "Why?", type: .text, required: false, show_if: .init(question: "later", equals: "Yes")), "comes later"),
        (
            Question(id: "x", text: "Why?", type: .text, required: false, show_if: .init(question: "visited", equals: "Maybe")),
            "not one of its answers"
        ),
        (Question(id: "x", text: "Why?", type: .text, required: false, show_if: .init(question: "email")), "choice, rating or scale"),
        (Question(id: "x", text: "Why?", type: .text, required: false, show_if: .init(question: "visited")), "names no answer"),
        (Question(id: "x", text: "Pick", type: .singleChoice, required: false, options: ["One"]), "at least two different options"),
        (Question(id: "X-1", text: "Why?", type: .text, required: false), "lower-case letters"),
        (Question(id: "visited", text: "Again?", type: .text, required: false), "used twice"),
        (Question(id: "x", text: "Rate", type: .scale, required: false, scale: .init(min: 5, max: 1)), "run upwards"),
    ])
    func theValidatorRefusesBrokenDefinitions(question: Question, problem: String) {
        var definition = Self.definition
        definition.questions.append(question)
        definition.questions.append(Question(id: "later", text: "Later?", type: .singleChoice, required: false, options: ["Yes", "No"]))
        let problems = definition.problems()
        #expect(problems.count == 1 && problems[0].contains(problem), "\(problems)")
    }

    @Test func answersAreCheckedWithSkipLogic() {
        let missing = Self.definition.check(["visited": ["Yes"]])
        #expect(missing.errors == ["rating": "Please answer this question."])
        let skipped = Self.definition.check([
            "visited": ["No"], "rating": ["9"], "age": ["12"], "email": ["nope"], "liked": ["Staff", "Cats"],
        ])
        #expect(skipped.answers["rating"] == nil, "a hidden question's answer is not kept")
        #expect(skipped.errors["rating"] == nil)
        #expect(skipped.errors["age"] == "Enter a number of at least 16.")
        #expect(skipped.errors["email"] == "Enter an e-mail address such as name@example.com.")
        #expect(skipped.errors["liked"] == "Choose one of the answers offered.")
        let good = Self.definition.check(["visited": ["Yes"], "rating": ["4"], "liked": ["Staff", "Rooms"], "comments": ["  fine  "]])
        #expect(good.errors.isEmpty)
        #expect(good.answers == ["visited": ["Yes"], "rating": ["4"], "liked": ["Staff", "Rooms"], "comments": ["fine"]])
    }

    @Test func csvQuotesAsRFC4180AndTheSummaryCounts() {
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        let responses = [
            SurveyResponse(
                id: "r1", submittedAt: date,
                answers: ["visited": ["Yes"], "rating": ["4"], "liked": ["Prices, \"fair\"", "Rooms"], "comments": ["Line one\nline two"]]),
            SurveyResponse(id: "r2", submittedAt: date, answers: ["visited": ["Yes"], "rating": ["5"]]),
            SurveyResponse(id: "r3", submittedAt: date, answers: ["visited": ["No"]]),
        ]
        let csv = SurveyCSV.export(Self.definition, responses: responses)
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines[0] == "response_id,submitted_at,visited,rating,liked,age,email,comments")
        #expect(lines[1] == "r1,2027-01-15T08:00:00Z,Yes,4,\"Prices, \"\"fair\"\"; Rooms\",,,\"Line one\nline two\"")
        #expect(lines[3] == "r3,2027-01-15T08:00:00Z,No,,,,,")
        #expect(csv.hasSuffix("\r\n"))
        let summary = SurveySummary(Self.definition, responses: responses)
        #expect(summary.responses == 3)
        #expect(summary.questions[0].counts == [.init(answer: "Yes", count: 2), .init(answer: "No", count: 1)])
        #expect(summary.questions[1].mean == 4.5 && summary.questions[1].answered == 2)
        #expect(summary.questions[2].counts?.first { $0.answer == "Rooms" }?.count == 1)
    }

    @Test func theFormIsStrictHTML5WithErrorsBesideTheirFields() async throws {
        let html = SurveyForm.html(
            Self.definition, action: "/s/s1", values: ["visited": ["Yes"], "age": ["<b>12</b>"]],
            errors: ["age": "Enter a number of at least 16."], hiddenFields: ["csrf": "t\"ok"])
        #expect(html.contains("<p class=\"error\" id=\"q-age-error\">Enter a number of at least 16.</p>"))
        #expect(html.contains("aria-describedby=\"q-age-error\" aria-invalid=\"true\""))
        #expect(html.contains("value=\"&lt;b&gt;12&lt;/b&gt;\""))
        #expect(html.contains("data-show-if=\"visited\""))
        #expect(html.contains("name=\"website\" tabindex=\"-1\""))
        #expect(html.contains("<input type=\"hidden\" name=\"csrf\" value=\"t&quot;ok\">"))
        let folder = try Fixtures.folder("survey-form")
        let file = folder.appendingPathComponent("form.html")
        try Data(html.utf8).write(to: file)
        let parse = try await Fixtures.run("/usr/bin/python3", [Fixtures.scripts.appendingPathComponent("check_html.py").path, file.path])
        #expect(parse.status == 0, "\(parse.output)")
    }
}
