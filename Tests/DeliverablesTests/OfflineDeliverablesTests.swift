import Contracts
import Deliverables
import Foundation
import OfflineDrafts
import Testing
import WorkflowKit

/// Every built-in workflow played offline with the `local` provider's writer, then built: what a new user's first
/// site, book, course, survey and video are made of.
@Suite struct OfflineDeliverablesTests {
    static let workflows = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Workflows")

    static func outputs(_ code: String, _ params: [String: JSONValue]) throws -> [String: JSONValue] {
        let definition = try WorkflowLoader.load(directory: workflows.appendingPathComponent(code)).definition
        return try OfflineRun.outputs(of: definition, params: params)
    }

    static let website: [String: JSONValue] = [
        "company_name": "Harbour Dental", "industry": "family dentistry", "website_type": "business", "page_count": 6,
        "target_audience": "families in Leith", "description": "A family dental practice by the harbour that wants more bookings.",
    ]

    @Test func theOfflineWebsiteReadsLikeADraftAndBuilds() async throws {
        let outputs = try Self.outputs("website", Self.website)
        #expect(try Self.outputs("website", Self.website) == outputs, "the same request gives the same draft")
        let content = try WebsiteContent(params: Self.website, outputs: outputs, baseURL: "http://localhost:8080/sites/harbour-dental/")
        #expect(content.pages.count == 6)
        let site = try WebsiteBuilder().build(content)
        let folder = try Fixtures.folder("offline-site")
        try Fixtures.write(site.files, to: folder)
        let pages = site.files.filter { $0.path.hasSuffix(".html") }.map { folder.appendingPathComponent($0.path).path }
        #expect(pages.count == 7)
        let parse = try await Fixtures.run("/usr/bin/python3", [Fixtures.scripts.appendingPathComponent("check_html.py").path] + pages)
        #expect(parse.status == 0, "\(parse.output)")
        let links = try await Fixtures.run("linkchecker", ["--no-status", "--no-warnings", pages[0]])
        #expect(links.status == 0, "\(links.output)")
        let home = try #require(content.pages.first)
        #expect(home.title == "Harbour Dental")
        let body = home.sections.map(\.body).joined(separator: " ")
        #expect(!body.contains("Summary:") && !body.contains("This section expands on"), "no field labels glued to facts")
        #expect(body.contains("families in Leith") || body.contains("family dentistry"), "written from the brief: \(body.prefix(200))")
        let headings = content.pages.flatMap { $0.sections.map(\.heading) }
        #expect(Set(headings).count > 1)
    }

    @Test func theOfflineBookPassesEpubcheck() async throws {
        let params: [String: JSONValue] = [
            "title": "Bread at Home", "author": "Ada Baker", "topic": "Baking sourdough bread at home without fuss",
            "audience": "busy home cooks", "chapter_count": 5,
        ]
        let book = try EbookContent(
            identifier: "0c6b1a43-7a1e-4a9e-9d1b-2f7f1d9a7e10", params: params, outputs: try Self.outputs("ebook", params),
            modified: "2026-12-02T00:00:00Z")
        #expect(book.chapters.map(\.number) == [1, 2, 3, 4, 5])
        #expect(book.chapters.allSatisfy { $0.body_markdown.contains("## ") })
        let file = try Fixtures.folder("offline-book").appendingPathComponent("book.epub")
        try EbookBuilder().epub(book).write(to: file)
        let check = try await Fixtures.run("java", ["-jar", "/usr/share/java/epubcheck.jar", file.path])
        #expect(check.status == 0 && !(check.output + check.errors).contains("WARNING"), "\(check.output)\(check.errors)")
    }

    @Test func theOfflineCourseHasAnswerableQuizzes() throws {
        let params: [String: JSONValue] = [
            "title": "Spreadsheets for Shopkeepers", "subject": "Keeping stock and sales in a spreadsheet", "learners": "shop owners",
            "module_count": 3, "level": "beginner",
        ]
        let course = try CourseContent(params: params, outputs: try Self.outputs("course", params))
        #expect(course.modules.count == 3 && course.lessons.count == 9 && course.quizzes.count == 3)
        for question in course.quizzes.flatMap(\.questions) {
            #expect(question.question.hasSuffix("?"))
            #expect(question.options.indices.contains(question.answer))
        }
        #expect(CourseBuilder().htmlPages(course).count == 9 + 3 + 4)
    }

    @Test func theOfflineSurveyIsPublishable() throws {
        let params: [String: JSONValue] = [
            "title": "Patient survey", "purpose": "Learn what patients value so we can improve the practice.", "respondents": "patients",
            "question_count": 12,
        ]
        let survey = try SurveyDefinition(id: "s1", params: params, outputs: try Self.outputs("survey", params))
        #expect(survey.problems().isEmpty)
        #expect(Set(survey.questions.map(\.type)).count >= 5, "varied question types")
        #expect(survey.questions.allSatisfy { $0.text.hasSuffix("?") || $0.text.hasSuffix(".") })
    }

    @Test func theOfflineVideoLastsAboutAsLongAsAsked() async throws {
        let params: [String: JSONValue] = [
            "topic": "How our bakery bakes sourdough every night", "audience": "local food lovers", "duration_seconds": 40,
            "format": "landscape", "call_to_action": "Visit the shop",
        ]
        let video = try VideoContent(params: params, outputs: try Self.outputs("video", params))
        #expect(video.scenes.count == 4, "one scene per 10 s beat")
        #expect(video.scenes.allSatisfy { $0.narration.split(separator: " ").count >= 15 })
    }
}
