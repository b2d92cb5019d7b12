import Contracts
import Deliverables
import Foundation
import WorkflowKit

/// Where the built-in workflows' deliverables are published and how users reach them.
struct DeliverableSettings: Sendable {
    /// The Gateway's address as users see it: canonical URLs, `sitemap.xml` and links to published work.
    var publicURL = "http://localhost:8080"
    var publications: Publications

    func siteURL(_ slug: String) -> String { "\(publicURL)/sites/\(slug)/" }
    func surveyURL(_ id: String) -> String { "\(publicURL)/s/\(id)" }
}

extension ArtifactFile {
    init(_ file: DeliverableFile, prefix: String = "") {
        self.init(name: prefix + file.path, mediaType: file.mediaType, data: file.data)
    }
}

/// Reads the sitemap the content stage fans out over and says how many pages it plans.
struct CreatePageTasksAction: SystemAction {
    func run(_ input: ActionInput) async throws -> ActionOutput {
        let pages = input.outputs["sitemap"]?["pages"]?.arrayValue ?? []
        guard !pages.isEmpty else { throw ActionError("the approved sitemap has no page to write") }
        let limit = input.params["page_count"]?.numberValue.map(Int.init) ?? pages.count
        var slugs = Set<String>()
        for page in pages {
            let slug = page["slug"]?.stringValue ?? ""
            guard slugs.insert(slug).inserted else { throw ActionError("the sitemap lists the page '\(slug)' twice") }
        }
        return ActionOutput(output: [
            "pages": .number(Double(pages.count)), "planned": .number(Double(limit)),
            "slugs": .array(pages.map { $0["slug"] ?? "" }),
        ])
    }
}

/// Builds the site from the approved sitemap, design and pages; every file and the zip become artifacts.
struct BuildSiteAction: SystemAction {
    let settings: DeliverableSettings

    func site(_ input: ActionInput) throws -> (slug: String, files: [DeliverableFile], zip: DeliverableFile) {
        let name = input.params["company_name"]?.stringValue ?? input.projectName
        let slug = try settings.publications.siteSlug(for: input.projectID, name: name)
        let content = try WebsiteContent(params: input.params, outputs: input.outputs, baseURL: settings.siteURL(slug))
        let site = try WebsiteBuilder().build(content)
        return (slug, site.files, site.zip)
    }

    func run(_ input: ActionInput) async throws -> ActionOutput {
        let site = try site(input)
        return ActionOutput(
            output: [
                "slug": .string(site.slug), "pages": .array(site.files.filter { $0.path.hasSuffix(".html") }.map { .string($0.path) }),
            ],
            artifacts: [ArtifactFile(site.zip)] + site.files.map { ArtifactFile($0, prefix: "site/") })
    }
}

/// Publishes the site the build stage made (built again from the same approved content: the same bytes) at
/// `/sites/<slug>/`, replacing the version before at once.
struct PublishSiteAction: SystemAction {
    let settings: DeliverableSettings

    func run(_ input: ActionInput) async throws -> ActionOutput {
        let site = try BuildSiteAction(settings: settings).site(input)
        let version = "v-" + ProjectWork.sha256(site.zip.data).prefix(16)
        try settings.publications.publishSite(site.slug, files: site.files, version: String(version))
        return ActionOutput(output: [
            "url": .string(settings.siteURL(site.slug)), "slug": .string(site.slug), "version": .string(String(version)),
        ])
    }
}

struct CompileEbookAction: SystemAction {
    func run(_ input: ActionInput) async throws -> ActionOutput {
        let modified = ISO8601DateFormatter().string(from: input.projectCreatedAt)
        let book = try EbookContent(identifier: input.projectID, params: input.params, outputs: input.outputs, modified: modified)
        let files = try await EbookBuilder().build(book, workspace: input.workspace.appendingPathComponent("ebook"))
        return ActionOutput(
            output: ["files": .array(files.map { .string($0.path) }), "chapters": .number(Double(book.chapters.count))],
            artifacts: files.map { ArtifactFile($0) })
    }
}

struct PackageCourseAction: SystemAction {
    func run(_ input: ActionInput) async throws -> ActionOutput {
        let course = try CourseContent(params: input.params, outputs: input.outputs)
        let files = try await CourseBuilder().build(course, workspace: input.workspace.appendingPathComponent("course"))
        return ActionOutput(
            output: ["files": .array(files.map { .string($0.path) }), "lessons": .number(Double(course.lessons.count))],
            artifacts: files.map { ArtifactFile($0) })
    }
}

/// Checks the approved questions (skip logic included) and publishes the form at `/s/<id>`.
struct PublishSurveyAction: SystemAction {
    let settings: DeliverableSettings

    /// A survey's public id: short, and the same for every version of the project's survey.
    static func surveyID(for project: String) -> String {
        String(project.replacingOccurrences(of: "-", with: "").prefix(16))
    }

    func run(_ input: ActionInput) async throws -> ActionOutput {
        let id = Self.surveyID(for: input.projectID)
        let definition = try SurveyDefinition(id: id, params: input.params, outputs: input.outputs)
        try settings.publications.publishSurvey(definition, project: input.projectID)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return ActionOutput(
            output: [
                "url": .string(settings.surveyURL(id)), "survey": .string(id), "questions": .number(Double(definition.questions.count)),
            ],
            artifacts: [ArtifactFile(name: "survey.json", mediaType: "application/json", data: try encoder.encode(definition))])
    }
}

struct ExportVideoAction: SystemAction {
    func run(_ input: ActionInput) async throws -> ActionOutput {
        let video = try VideoContent(params: input.params, outputs: input.outputs)
        let files = try await VideoBuilder().build(video, workspace: input.workspace)
        return ActionOutput(
            output: ["files": .array(files.map { .string($0.path) }), "scenes": .number(Double(video.scenes.count))],
            artifacts: files.map { ArtifactFile($0) })
    }
}

extension ActionRegistry {
    /// The built-in workflows' deliverables, turning approved outputs into files.
    mutating func registerDeliverables(_ settings: DeliverableSettings) {
        register("website.create_page_tasks", CreatePageTasksAction())
        register("website.build_site", BuildSiteAction(settings: settings))
        register("website.publish", PublishSiteAction(settings: settings))
        register("ebook.compile_epub", CompileEbookAction())
        register("course.package", PackageCourseAction())
        register("survey.publish_form", PublishSurveyAction(settings: settings))
        register("video.export", ExportVideoAction())
    }
}
