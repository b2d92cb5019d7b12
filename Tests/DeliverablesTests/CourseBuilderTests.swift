import Contracts
import Deliverables
import Foundation
import Testing
import ZIPFoundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite struct CourseBuilderTests {
    func course(_ outputs: [String: JSONValue] = Fixtures.courseOutputs()) throws -> CourseContent {
        try CourseContent(params: Fixtures.courseParams, outputs: outputs)
    }

    func entries(_ data: Data) throws -> [String: Data] {
        let archive = try Archive(data: data, accessMode: .read)
        var files: [String: Data] = [:]
        for entry in archive {
            var data = Data()
            _ = try archive.extract(entry) { data.append($0) }
            files[entry.path] = data
        }
        return files
    }

    @Test func theSCORMManifestListsEveryLessonAndEachFileExists() async throws {
        let files = try await CourseBuilder().build(try course(), workspace: try Fixtures.folder("course"))
        #expect(files.map(\.path) == ["course.json", "course-html.zip", "course-scorm.zip", "course-handbook.pdf"])
        let scorm = try entries(files[2].data)
        let manifest = String(decoding: try #require(scorm["imsmanifest.xml"]), as: UTF8.self)
        #expect(manifest.contains("<schemaversion>1.2</schemaversion>"))
        let hrefs = manifest.matches(of: /href="([^"]+)"/).map { String($0.1) }
        #expect(Set(hrefs).isSuperset(of: ["lesson-01.html", "lesson-02.html", "lesson-03.html", "quiz-1.html", "quiz-2.html"]))
        for href in hrefs { #expect(scorm[href] != nil, "\(href) is in the package") }
        let scos = manifest.matches(of: /adlcp:scormtype="sco" href="([^"]+)"/).map { String($0.1) }
        #expect(scos == ["lesson-01.html", "lesson-02.html", "quiz-1.html", "lesson-03.html", "quiz-2.html"])
        let xml = try XMLDocument(data: try #require(scorm["imsmanifest.xml"]))
        #expect(try xml.nodes(forXPath: "//*[local-name()='item'][@identifierref]").count == 5)
        #expect(files[3].data.starts(with: Data("%PDF-".utf8)))
    }

    @Test func quizzesRoundTripThroughTheManifestAndCheckInThePage() throws {
        let built = try course()
        let manifest = try JSONValue.parse(try CourseBuilder().manifest(built))
        let quizzes = try (manifest["modules"]?.arrayValue ?? []).compactMap { $0["quiz"] }.map {
            try $0.decode(CourseContent.Quiz.self, as: "quiz")
        }
        #expect(quizzes == built.quizzes)
        #expect(manifest["modules"]?.arrayValue?.first?["lessons"]?.arrayValue?.last?["file"] == "lesson-02.html")
        let quiz = try #require(CourseBuilder().htmlPages(built).first { $0.path == "quiz-1.html" }).text
        #expect(quiz.contains("<fieldset data-answer=\"1\">") && quiz.contains("<script src=\"quiz.js\" defer></script>"))
        #expect(quiz.contains("<label for=\"q1-1\">Rows</label>"))
    }

    @Test func everyPageIsStrictHTML5() async throws {
        let files = try await CourseBuilder().build(try course(), workspace: try Fixtures.folder("course-html"))
        let folder = try Fixtures.folder("course-pages")
        let pages = try entries(files[1].data)
        for (path, data) in pages { try data.write(to: folder.appendingPathComponent(path)) }
        let html = pages.keys.filter { $0.hasSuffix(".html") }.sorted().map { folder.appendingPathComponent($0).path }
        #expect(html.count == 6)
        let parse = try await Fixtures.run("/usr/bin/python3", [Fixtures.scripts.appendingPathComponent("check_html.py").path] + html)
        #expect(parse.status == 0, "\(parse.output)")
        let links = try await Fixtures.run(
            "linkchecker", ["--no-status", "--no-warnings", folder.appendingPathComponent("index.html").path])
        #expect(links.status == 0, "\(links.output)")
    }

    @Test func anAnswerOutsideItsOptionsIsRefusedSayingWhere() {
        #expect(throws: DeliverableError("module 1, question 1: the answer 3 is not one of its 3 options (counted from 0)")) {
            try course(Fixtures.courseOutputs(answer: 3))
        }
    }
}
