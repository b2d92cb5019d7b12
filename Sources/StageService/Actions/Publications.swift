import Deliverables
import Foundation

/// What projects have published: websites by slug and survey forms by id, as folders under the artifact store.
///
/// A site's folder holds one subfolder per version (named by the sha256 of its zip, so publishing the same site
/// twice writes nothing) and a `current` symlink to the one served; a new version is written in full first and
/// the link then replaced with one `rename`, so a reader sees the old site or the new one, never half of each.
struct Publications: Sendable {
    let root: URL

    init(root: URL) {
        self.root = root
    }

    private var sites: URL { root.appendingPathComponent("sites") }
    private var surveys: URL { root.appendingPathComponent("surveys") }

    /// The slug of `project`'s site: the one it already has, else the first free one made from `name`.
    func siteSlug(for project: String, name: String) throws -> String {
        try FileManager.default.createDirectory(at: sites, withIntermediateDirectories: true)
        let base = Markup.slug(name, fallback: "site")
        for attempt in 1...1000 {
            let slug = attempt == 1 ? base : "\(base)-\(attempt)"
            let folder = sites.appendingPathComponent(slug)
            let ownerFile = folder.appendingPathComponent("owner")
            if mkdir(folder.path, 0o755) == 0 {
                try Data(project.utf8).write(to: ownerFile, options: .atomic)
                return slug
            }
            // A folder just made by another build may not have its owner file yet: give it a moment.
            var owner = try? String(contentsOf: ownerFile, encoding: .utf8)
            if owner == nil {
                Thread.sleep(forTimeInterval: 0.05)
                owner = try? String(contentsOf: ownerFile, encoding: .utf8)
            }
            if owner == project { return slug }
        }
        throw DeliverableError("no free address for the site of '\(name)'")
    }

    /// Publishes `files` as the current version of `slug`'s site; returns the version's name.
    @discardableResult
    func publishSite(_ slug: String, files: [DeliverableFile], version: String) throws -> String {
        let folder = sites.appendingPathComponent(slug)
        let target = folder.appendingPathComponent(version)
        if !FileManager.default.fileExists(atPath: target.path) {
            let staging = folder.appendingPathComponent(".\(version).\(UUID().uuidString)")
            try DeliverableFile.write(files, to: staging)
            if rename(staging.path, target.path) != 0 { try? FileManager.default.removeItem(at: staging) }
        }
        let link = folder.appendingPathComponent(".current.\(UUID().uuidString)")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: version)
        guard rename(link.path, folder.appendingPathComponent("current").path) == 0 else {
            try? FileManager.default.removeItem(at: link)
            throw DeliverableError("the site could not be switched to its new version (errno \(errno))")
        }
        return version
    }

    /// A file of the current version of `slug`'s site: `path` as asked, `index.html` for a folder, `name.html` for
    /// `name`; nil when the site has no such file. Paths that climb out of the site are never read.
    func siteFile(_ slug: String, path: String) -> (path: String, data: Data)? {
        guard Self.isSafe(slug),
            let current = try? FileManager.default.destinationOfSymbolicLink(
                atPath: sites.appendingPathComponent(slug).appendingPathComponent("current").path)
        else { return nil }
        let folder = sites.appendingPathComponent(slug).appendingPathComponent(current)
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard parts.allSatisfy(Self.isSafe) else { return nil }
        let joined = parts.joined(separator: "/")
        let candidates =
            joined.isEmpty || path.hasSuffix("/") ? [joined + (joined.isEmpty ? "" : "/") + "index.html"] : [joined, joined + ".html"]
        for candidate in candidates {
            var isFolder: ObjCBool = false
            let url = folder.appendingPathComponent(candidate)
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue,
                let data = try? Data(contentsOf: url)
            {
                return (candidate, data)
            }
        }
        return nil
    }

    func siteExists(_ slug: String) -> Bool {
        Self.isSafe(slug)
            && FileManager.default.fileExists(atPath: sites.appendingPathComponent(slug).appendingPathComponent("current").path)
    }

    /// Publishes a survey's definition (replacing the earlier one at once).
    func publishSurvey(_ definition: SurveyDefinition, project: String) throws {
        try FileManager.default.createDirectory(at: surveys, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let record = PublishedSurvey(projectID: project, definition: definition)
        try encoder.encode(record).write(to: surveys.appendingPathComponent("\(definition.id).json"), options: .atomic)
    }

    func survey(_ id: String) -> PublishedSurvey? {
        guard Self.isSafe(id), let data = try? Data(contentsOf: surveys.appendingPathComponent("\(id).json")) else { return nil }
        return try? JSONDecoder().decode(PublishedSurvey.self, from: data)
    }

    /// A path segment that names a file inside a folder: no `..`, no hidden files, nothing but plain characters.
    static func isSafe(_ segment: String) -> Bool {
        !segment.isEmpty && !segment.hasPrefix(".") && segment.count <= 200
            && segment.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0))
            }
    }
}

struct PublishedSurvey: Codable, Sendable {
    var projectID: String
    var definition: SurveyDefinition
}
