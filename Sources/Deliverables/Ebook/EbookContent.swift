import Contracts
import Foundation

/// The approved outputs a book is built from, as the ebook workflow's stages write them.
public struct EbookContent: Sendable {
    public struct Chapter: Decodable, Sendable {
        public var number: Int
        public var title: String
        public var body_markdown: String
    }

    public struct Matter: Decodable, Sendable {
        public var introduction: String
        public var conclusion: String
        public var about_the_author: String
        public var blurb: String
    }

    struct Outline: Decodable {
        var subtitle: String?
    }

    public var identifier: String
    public var title: String
    public var subtitle: String
    public var author: String
    public var chapters: [Chapter]
    public var matter: Matter?
    /// The book's `dcterms:modified`: fixed per project, so building again gives the same bytes.
    public var modified: String

    public init(
        identifier: String, title: String, subtitle: String, author: String, chapters: [Chapter], matter: Matter?, modified: String
    ) {
        self.identifier = identifier
        self.title = title
        self.subtitle = subtitle
        self.author = author
        self.chapters = chapters.sorted { $0.number < $1.number }
        self.matter = matter
        self.modified = modified
    }

    public init(identifier: String, params: [String: JSONValue], outputs: [String: JSONValue], modified: String) throws {
        guard let chapters = outputs["chapters"] else { throw DeliverableError("there are no approved chapters yet") }
        let list = try (chapters.arrayValue ?? [chapters]).enumerated().map { index, chapter in
            try chapter.decode(Chapter.self, as: "chapter \(index + 1) of stage 'chapters'")
        }
        guard !list.isEmpty else { throw DeliverableError("stage 'chapters' wrote no chapter") }
        let outline = try outputs["outline"]?.decode(Outline.self, as: "the output of stage 'outline'")
        self.init(
            identifier: identifier, title: params["title"]?.stringValue ?? "Untitled", subtitle: outline?.subtitle ?? "",
            author: params["author"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "Anonymous", chapters: list,
            matter: try outputs["matter"]?.decode(Matter.self, as: "the output of stage 'matter'"), modified: modified)
    }

    /// The book's parts in reading order: introduction, chapters, conclusion, about the author.
    var parts: [(file: String, title: String, kind: String, markdown: String)] {
        var parts: [(String, String, String, String)] = []
        if let matter, !matter.introduction.isEmpty { parts.append(("introduction", "Introduction", "introduction", matter.introduction)) }
        for (index, chapter) in chapters.enumerated() {
            parts.append((String(format: "chapter-%02d", index + 1), "\(index + 1). \(chapter.title)", "chapter", chapter.body_markdown))
        }
        if let matter, !matter.conclusion.isEmpty { parts.append(("conclusion", "Conclusion", "conclusion", matter.conclusion)) }
        if let matter, !matter.about_the_author.isEmpty {
            parts.append(("about-the-author", "About the author", "appendix", matter.about_the_author))
        }
        return parts
    }
}
