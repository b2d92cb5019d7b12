import Foundation

/// Builds a book three ways from approved content: an EPUB 3 that passes epubcheck, a print-ready PDF (weasyprint,
/// with a title page, a table of contents with page numbers, and page numbers), and a Markdown copy.
public struct EbookBuilder: Sendable {
    public init() {}

    /// The EPUB, the PDF and the Markdown copy; `workspace` holds weasyprint's input while it runs.
    public func build(_ book: EbookContent, workspace: URL) async throws -> [DeliverableFile] {
        let epub = try self.epub(book)
        let pdf = try await PrintDocument.pdf(html: printHTML(book), name: "book", workspace: workspace)
        let name = Markup.slug(book.title, fallback: "book")
        return [
            DeliverableFile(path: "\(name).epub", mediaType: MediaType.epub, data: epub),
            DeliverableFile(path: "\(name).pdf", mediaType: MediaType.pdf, data: pdf),
            DeliverableFile(path: "\(name).md", mediaType: MediaType.markdown, text: markdown(book)),
        ]
    }

    /// The EPUB 3 file: `mimetype` first and stored, the container, the package document, the nav document, a
    /// cover, one XHTML file per part and a stylesheet.
    public func epub(_ book: EbookContent) throws -> Data {
        let parts = book.parts
        var files = [
            DeliverableFile(path: "mimetype", mediaType: MediaType.text, text: "application/epub+zip"),
            DeliverableFile(
                path: "META-INF/container.xml", mediaType: MediaType.xml,
                text: """
                    <?xml version="1.0" encoding="UTF-8"?>
                    <container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
                      <rootfiles><rootfile full-path="EPUB/package.opf" media-type="application/oebps-package+xml"/></rootfiles>
                    </container>

                    """),
            DeliverableFile(path: "EPUB/package.opf", mediaType: MediaType.xml, text: package(book, parts)),
            DeliverableFile(path: "EPUB/nav.xhtml", mediaType: MediaType.xml, text: nav(book, parts)),
            DeliverableFile(path: "EPUB/cover.svg", mediaType: "image/svg+xml", text: coverImage(book)),
            DeliverableFile(
                path: "EPUB/cover.xhtml", mediaType: MediaType.xml,
                text: xhtml(
                    title: book.title,
                    body: """
                        <section epub:type="cover" class="cover"><img src="cover.svg" alt="\(HTML.escape(book.title, quotes: true))" /></section>
                        """)),
            DeliverableFile(path: "EPUB/style.css", mediaType: MediaType.css, text: Self.stylesheet),
        ]
        for part in parts {
            let body = """
                <section epub:type="\(part.kind)" aria-labelledby="title">
                <h1 id="title">\(HTML.escape(part.title))</h1>
                \(Markup.html(fromMarkdown: part.markdown, topHeading: 2, selfContained: true))
                </section>
                """
            files.append(
                DeliverableFile(path: "EPUB/\(part.file).xhtml", mediaType: MediaType.xml, text: xhtml(title: part.title, body: body)))
        }
        return try ZipWriter.archive(files, stored: ["mimetype"])
    }

    private func package(_ book: EbookContent, _ parts: [(file: String, title: String, kind: String, markdown: String)]) -> String {
        let identifier =
            UUID(uuidString: book.identifier) != nil ? "urn:uuid:\(book.identifier.lowercased())" : "urn:aiwf:\(book.identifier)"
        let items = parts.map { "    <item id=\"\($0.file)\" href=\"\($0.file).xhtml\" media-type=\"application/xhtml+xml\"/>\n" }.joined()
        let spine = parts.map { "    <itemref idref=\"\($0.file)\"/>\n" }.joined()
        let description = book.matter.map { "    <dc:description>\(HTML.escape(Markup.plainText($0.blurb)))</dc:description>\n" } ?? ""
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="book-id" xml:lang="en">
              <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
                <dc:identifier id="book-id">\(HTML.escape(identifier))</dc:identifier>
                <dc:title>\(HTML.escape(book.title))</dc:title>
                <dc:creator>\(HTML.escape(book.author))</dc:creator>
                <dc:language>en</dc:language>
            \(description)    <meta property="dcterms:modified">\(book.modified)</meta>
              </metadata>
              <manifest>
                <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
                <item id="style" href="style.css" media-type="text/css"/>
                <item id="cover-image" href="cover.svg" media-type="image/svg+xml" properties="cover-image"/>
                <item id="cover" href="cover.xhtml" media-type="application/xhtml+xml"/>
            \(items)  </manifest>
              <spine>
                <itemref idref="cover"/>
                <itemref idref="nav"/>
            \(spine)  </spine>
            </package>

            """
    }

    private func nav(_ book: EbookContent, _ parts: [(file: String, title: String, kind: String, markdown: String)]) -> String {
        let entries = parts.map { "<li><a href=\"\($0.file).xhtml\">\(HTML.escape($0.title))</a></li>" }.joined(separator: "\n")
        return xhtml(
            title: "Contents",
            body: """
                <nav epub:type="toc" id="toc" aria-labelledby="toc-title">
                <h1 id="toc-title">Contents</h1>
                <ol>
                \(entries)
                </ol>
                </nav>
                <nav epub:type="landmarks" id="landmarks" hidden="hidden">
                <h2>Landmarks</h2>
                <ol>
                <li><a epub:type="cover" href="cover.xhtml">Cover</a></li>
                <li><a epub:type="bodymatter" href="\(parts.first { $0.kind == "chapter" }?.file ?? "cover").xhtml">Start of the book</a></li>
                </ol>
                </nav>
                """)
    }

    private func xhtml(title: String, body: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" xml:lang="en" lang="en">
        <head>
        <meta charset="utf-8" />
        <title>\(HTML.escape(title))</title>
        <link rel="stylesheet" type="text/css" href="style.css" />
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }

    /// A typographic cover: the title, the subtitle and the author on a dark field.
    private func coverImage(_ book: EbookContent) -> String {
        let titleLines = PrintDocument.wrap(book.title, width: 18).prefix(5)
        let subtitleLines = PrintDocument.wrap(book.subtitle, width: 34).prefix(3)
        var text = ""
        var y = 420
        for line in titleLines {
            text += "<text x=\"600\" y=\"\(y)\" font-size=\"96\" font-weight=\"bold\" fill=\"#ffffff\">\(HTML.escape(line))</text>\n"
            y += 116
        }
        y += 40
        for line in subtitleLines {
            text += "<text x=\"600\" y=\"\(y)\" font-size=\"48\" fill=\"#dfe7f2\">\(HTML.escape(line))</text>\n"
            y += 64
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="1200" height="1800" viewBox="0 0 1200 1800">
            <title>\(HTML.escape(book.title))</title>
            <rect width="1200" height="1800" fill="#1f3a5f"/>
            <rect x="80" y="80" width="1040" height="1640" fill="none" stroke="#f2a541" stroke-width="6"/>
            <g font-family="DejaVu Serif, Georgia, serif" text-anchor="middle">
            \(text)<text x="600" y="1600" font-size="56" fill="#f2a541">\(HTML.escape(book.author))</text>
            </g>
            </svg>

            """
    }

    static let stylesheet = """
        body { font-family: Georgia, "DejaVu Serif", serif; line-height: 1.5; margin: 0 5%; }
        h1, h2, h3, h4 { font-family: "DejaVu Sans", sans-serif; line-height: 1.2; }
        h1 { font-size: 1.8em; margin: 1.5em 0 1em; }
        .cover { text-align: center; margin: 0; }
        .cover img { max-width: 100%; max-height: 100vh; }
        blockquote { margin: 1em 2em; font-style: italic; }
        pre, code { font-family: "DejaVu Sans Mono", monospace; font-size: 0.9em; }

        """

    /// The same book as one HTML document for print.
    func printHTML(_ book: EbookContent) -> String {
        let parts = book.parts
        let toc = parts.map { "<li><a href=\"#\($0.file)\">\(HTML.escape($0.title))</a></li>" }.joined(separator: "\n")
        let chapters = parts.map { part in
            "<section class=\"part\" id=\"\(part.file)\"><h1>\(HTML.escape(part.title))</h1>\n\(Markup.html(fromMarkdown: part.markdown, topHeading: 2, selfContained: true))</section>"
        }.joined(separator: "\n")
        return PrintDocument.html(
            title: book.title,
            titlePage: """
                <h1>\(HTML.escape(book.title))</h1>
                <p class="subtitle">\(HTML.escape(book.subtitle))</p>
                <p class="author">\(HTML.escape(book.author))</p>
                """, toc: toc, body: chapters)
    }

    func markdown(_ book: EbookContent) -> String {
        var text = "# \(book.title)\n\n"
        if !book.subtitle.isEmpty { text += "_\(book.subtitle)_\n\n" }
        text += "by \(book.author)\n\n"
        for part in book.parts {
            text += "## \(part.title)\n\n\(part.markdown.trimmingCharacters(in: .whitespacesAndNewlines))\n\n"
        }
        return text
    }
}
