import Deliverables
import Foundation
import Hummingbird

/// The Markdown files of the repository's `docs/` folder, rendered once at start and served at `/docs`.
struct DocsLibrary: Sendable {
    struct Page: Sendable {
        let name: String
        let title: String
        let html: String
    }

    let pages: [Page]

    /// The reading order of the pages that exist; any other page follows by name.
    static let order = [
        "getting-started", "concepts", "workflows", "custom-workflows", "api", "deliverables", "architecture", "robustness", "operations",
    ]

    init(pages: [Page]) {
        self.pages = pages
    }

    /// Every `*.md` file of `directory`; none when the folder is missing.
    init(directory: URL) {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var pages: [Page] = []
        for file in files where file.hasSuffix(".md") {
            guard let markdown = try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8) else { continue }
            let name = String(file.dropLast(3))
            pages.append(Page(name: name, title: Self.title(of: markdown) ?? name, html: Self.render(markdown)))
        }
        self.pages = pages.sorted { left, right in
            let (a, b) = (Self.order.firstIndex(of: left.name) ?? Int.max, Self.order.firstIndex(of: right.name) ?? Int.max)
            return a != b ? a < b : left.name < right.name
        }
    }

    func page(_ name: String) -> Page? { pages.first { $0.name == name } }

    static func title(of markdown: String) -> String? {
        markdown.split(separator: "\n").first { $0.hasPrefix("# ") }.map { String($0.dropFirst(2)).trimmingCharacters(in: .whitespaces) }
    }

    /// The page's HTML: Markdown through the same sanitiser as model text, links to other `.md` files pointed at
    /// their `/docs` pages.
    static func render(_ markdown: String) -> String {
        let html = Markup.html(fromMarkdown: markdown, topHeading: 1)
        return html.replacing(/href="(?:\.\/)?(?:docs\/)?([a-z0-9-]+)\.md(#[^"]*)?"/) { match in
            "href=\"/docs/\(match.1)\(match.2 ?? "")\""
        }
    }
}

/// `/docs` (the list) and `/docs/<page>`, for anyone: how to use and run aiwf.
struct DocsPages {
    let library: DocsLibrary

    func add(to router: Router<APIContext>) {
        router.get("docs") { _, _ in
            let items = library.pages.map { "<li><a href=\"/docs/\($0.name)\">\(HTML.escape($0.title))</a></li>" }.joined()
            return Self.document(
                title: "aiwf documentation", library: library,
                main: "<h1>aiwf documentation</h1>\n<ul>\(items)</ul>\n<p>The API reference: <a href=\"/api/docs\">/api/docs</a>.</p>")
        }
        router.get("docs/:page") { _, context in
            guard let page = library.page(try context.parameters.require("page")) else {
                throw APIError(.notFound, "not-found", "there is no such page; the list is at /docs")
            }
            return Self.document(title: page.title, library: library, main: page.html)
        }
    }

    static func document(title: String, library: DocsLibrary, main: String) -> Response {
        let nav = library.pages.map { "<li><a href=\"/docs/\($0.name)\">\(HTML.escape($0.title))</a></li>" }.joined()
        let html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title)) · aiwf</title>
            <style>
            body{margin:0;font:1rem/1.6 system-ui,"DejaVu Sans",sans-serif;color:#1d1d1f;background:#fff}
            .layout{display:flex;flex-wrap:wrap;gap:2rem;max-width:72rem;margin:0 auto;padding:1rem 1.25rem 3rem}
            nav{flex:0 0 14rem}nav ul{list-style:none;padding:0}nav li{margin:.3rem 0}
            main{flex:1 1 30rem;min-width:0}a{color:#1f4e8c}a:focus-visible{outline:3px solid #1f4e8c;outline-offset:2px}
            pre{overflow-x:auto;background:#f4f5f7;padding:.75rem;border-radius:.3rem}code{font-family:"DejaVu Sans Mono",monospace;font-size:.92em}
            table{border-collapse:collapse;display:block;overflow-x:auto}th,td{border:1px solid #c9ced6;padding:.3rem .5rem;text-align:left;vertical-align:top}
            </style>
            </head>
            <body>
            <div class="layout">
            <nav aria-label="Documentation"><p><a href="/docs">Documentation</a></p><ul>\(nav)</ul></nav>
            <main>
            \(main)
            </main>
            </div>
            </body>
            </html>

            """
        return Response(
            status: .ok, headers: [.contentType: MediaType.html, .cacheControl: "public, max-age=300"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}
