import ArgumentParser
import Contracts
import Deliverables
import Foundation
import OfflineDrafts
import WorkflowKit

/// `aiwf-bench deliverables`: the five built-in workflows played offline with the `local` provider's writer, each
/// deliverable built from that and left in a folder to check with your own tools, and how long each build took.
struct DeliverablesBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliverables",
        abstract:
            "Builds a 10-page site, a 10-chapter book, a 4-module course, a survey and a 2-minute video offline; targets: site and EPUB ≤ 1 s each."
    )

    @Option(help: "Where the files go, one folder per workflow.")
    var out = "deliverables"

    @Option(help: "The built-in workflows' folder.")
    var workflows = "Workflows"

    @OptionGroup var report: ReportOptions

    func outputs(_ code: String, _ params: [String: JSONValue]) throws -> [String: JSONValue] {
        let definition = try WorkflowLoader.load(directory: URL(fileURLWithPath: workflows).appendingPathComponent(code)).definition
        return try OfflineRun.outputs(of: definition, params: definition.parameters(params))
    }

    func folder(_ name: String) throws -> URL {
        let url = URL(fileURLWithPath: out).appendingPathComponent(name)
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func write(_ files: [DeliverableFile], to folder: URL) throws {
        try DeliverableFile.write(files, to: folder)
    }

    /// Runs `body` and returns its result with the milliseconds it took.
    func timed<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
        let start = monotonicNanoseconds()
        let value = try await body()
        return (value, Double(monotonicNanoseconds() - start) / 1e6)
    }

    func run() async throws {
        var figures = Report()

        let siteParams: [String: JSONValue] = [
            "company_name": "Harbour Dental", "industry": "family dentistry", "website_type": "business", "page_count": 10,
            "target_audience": "families in Leith", "description": "A family dental practice by the harbour that wants more bookings.",
        ]
        let siteContent = try WebsiteContent(
            params: siteParams, outputs: try outputs("website", siteParams), baseURL: "http://localhost:8080/sites/harbour-dental/")
        let (site, siteTime) = try await timed { try WebsiteBuilder().build(siteContent) }
        let siteFolder = try folder("website")
        try write(site.files, to: siteFolder.appendingPathComponent("site"))
        try write([site.zip], to: siteFolder)
        figures.add("website_ms", "website: 10 pages, theme, sitemap, zip (target ≤ 1000)", siteTime, unit: "ms", decimals: 1)

        let bookParams: [String: JSONValue] = [
            "title": "Bread at Home", "author": "Ada Baker", "topic": "Baking sourdough bread at home without fuss",
            "audience": "busy home cooks", "chapter_count": 10,
        ]
        let book = try EbookContent(
            identifier: "0c6b1a43-7a1e-4a9e-9d1b-2f7f1d9a7e10", params: bookParams, outputs: try outputs("ebook", bookParams),
            modified: "2026-12-02T00:00:00Z")
        let (epub, epubTime) = try await timed { try EbookBuilder().epub(book) }
        let bookFolder = try folder("ebook")
        let (bookFiles, bookTime) = try await timed {
            try await EbookBuilder().build(book, workspace: bookFolder.appendingPathComponent(".work"))
        }
        try write(bookFiles, to: bookFolder)
        precondition(bookFiles[0].data == epub, "the EPUB is the same bytes each build")
        figures.add("epub_ms", "ebook: EPUB of 10 chapters (target ≤ 1000)", epubTime, unit: "ms", decimals: 1)
        figures.add("ebook_ms", "ebook: EPUB + PDF (weasyprint) + Markdown", bookTime, unit: "ms")

        let courseParams: [String: JSONValue] = [
            "title": "Spreadsheets for Shopkeepers", "subject": "Keeping stock and sales in a spreadsheet", "learners": "shop owners",
            "module_count": 4, "level": "beginner",
        ]
        let course = try CourseContent(params: courseParams, outputs: try outputs("course", courseParams))
        let courseFolder = try folder("course")
        let (courseFiles, courseTime) = try await timed {
            try await CourseBuilder().build(course, workspace: courseFolder.appendingPathComponent(".work"))
        }
        try write(courseFiles, to: courseFolder)
        figures.add("course_ms", "course: 4 modules, SCORM, HTML, PDF handbook", courseTime, unit: "ms")

        let surveyParams: [String: JSONValue] = [
            "title": "Patient survey", "purpose": "Learn what patients value so we can improve the practice.", "respondents": "patients",
            "question_count": 12,
        ]
        let (survey, surveyTime) = try await timed {
            try SurveyDefinition(id: "patient-survey", params: surveyParams, outputs: try outputs("survey", surveyParams))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try write(
            [
                DeliverableFile(path: "survey.json", mediaType: MediaType.json, data: try encoder.encode(survey)),
                DeliverableFile(path: "form.html", mediaType: MediaType.html, text: SurveyForm.html(survey, action: "#")),
            ], to: try folder("survey"))
        figures.add("survey_ms", "survey: definition checked, form", surveyTime, unit: "ms", decimals: 1)

        let videoParams: [String: JSONValue] = [
            "topic": "How our bakery bakes sourdough every night", "audience": "local food lovers", "duration_seconds": 120,
            "format": "landscape", "call_to_action": "Visit the shop",
        ]
        let video = try VideoContent(params: videoParams, outputs: try outputs("video", videoParams))
        let videoFolder = try folder("video")
        let (videoFiles, videoTime) = try await timed {
            try await VideoBuilder().build(video, workspace: videoFolder.appendingPathComponent(".work"))
        }
        try write(videoFiles, to: videoFolder)
        let storyboard = try JSONValue.parse(videoFiles[4].data)
        let seconds = (storyboard["scenes"]?.arrayValue ?? []).compactMap { $0["duration_seconds"]?.numberValue }.reduce(0, +)
        figures.add("video_ms", "video: \(video.scenes.count) scenes narrated, MP4 + captions", videoTime, unit: "ms")
        figures.add("video_seconds", "video: length of the narration", seconds, unit: "s", decimals: 1)
        for name in ["website", "ebook", "course", "survey", "video"] {
            try? FileManager.default.removeItem(at: URL(fileURLWithPath: out).appendingPathComponent(name).appendingPathComponent(".work"))
        }
        figures.print(json: report.json)
        if !report.json { print("Files in \(URL(fileURLWithPath: out).path)/{website,ebook,course,survey,video}") }
    }
}
