import Foundation

/// Builds a static site from approved website content: one HTML5 page per page, the theme's stylesheet,
/// `sitemap.xml`, `robots.txt`, a 404 page, and a zip of them all.
public struct WebsiteBuilder: Sendable {
    public init() {}

    /// The site's files, in a fixed order, and the zip of them.
    public func build(_ content: WebsiteContent) throws -> (files: [DeliverableFile], zip: DeliverableFile) {
        let design = content.design
        guard let primary = Colour(hex: design.palette.primary), let secondary = Colour(hex: design.palette.secondary),
            let accent = Colour(hex: design.palette.accent), let background = Colour(hex: design.palette.background),
            let text = Colour(hex: design.palette.text)
        else { throw DeliverableError("the design's palette has a colour that is not #rrggbb") }
        let palette = SitePalette(primary: primary, secondary: secondary, accent: accent, background: background, text: text)
        let pages = Self.fileNames(for: content.pages)
        let nav = navigation(content, pages: pages)
        let contact = pages.first { $0.page.slug.contains("contact") }?.file ?? "index.html"
        var files: [DeliverableFile] = []
        for entry in pages {
            files.append(
                DeliverableFile(
                    path: entry.file, mediaType: MediaType.html, text: page(entry.page, file: entry.file, content, nav, contact)))
        }
        files.append(DeliverableFile(path: "404.html", mediaType: MediaType.html, text: notFound(content, nav)))
        files.append(
            DeliverableFile(
                path: "style.css", mediaType: MediaType.css,
                text: content.theme.stylesheet(
                    palette: palette, headingFont: design.typography.heading_font, bodyFont: design.typography.body_font)))
        files.append(DeliverableFile(path: "sitemap.xml", mediaType: MediaType.xml, text: sitemap(content, pages)))
        files.append(
            DeliverableFile(
                path: "robots.txt", mediaType: MediaType.text, text: "User-agent: *\nAllow: /\nSitemap: \(content.baseURL)sitemap.xml\n"))
        let zip = DeliverableFile(path: "site.zip", mediaType: MediaType.zip, data: try ZipWriter.archive(files))
        return (files, zip)
    }

    /// Each page's file: the home page (`""`, `home` or `index`, else the first) is `index.html`, the others
    /// `<slug>.html`, a slug written twice made unique.
    static func fileNames(for pages: [WebsiteContent.Page]) -> [(page: WebsiteContent.Page, file: String)] {
        let homeIndex = pages.firstIndex { ["", "home", "index"].contains(Markup.slug($0.slug, fallback: "")) } ?? 0
        var used: Set<String> = ["index", "404", "style", "sitemap", "robots", "site"]
        return pages.enumerated().map { index, page in
            if index == homeIndex { return (page, "index.html") }
            var name = Markup.slug(page.slug.isEmpty ? page.title : page.slug)
            var suffix = 2
            while used.contains(name) {
                name = Markup.slug(page.slug.isEmpty ? page.title : page.slug) + "-\(suffix)"
                suffix += 1
            }
            used.insert(name)
            return (page, name + ".html")
        }
    }

    /// The navigation: the approved items that point at a page of the site, else every page.
    private func navigation(_ content: WebsiteContent, pages: [(page: WebsiteContent.Page, file: String)]) -> [(
        label: String, file: String
    )] {
        let bySlug = Dictionary(pages.map { (Markup.slug($0.page.slug, fallback: ""), $0.file) }, uniquingKeysWith: { first, _ in first })
        var items: [(String, String)] = []
        for item in content.navigation {
            let slug = Markup.slug(item.slug, fallback: "")
            guard let file = bySlug[slug] ?? (["", "home", "index"].contains(slug) ? "index.html" : nil),
                !items.contains(where: { $0.1 == file })
            else { continue }
            items.append((item.label, file))
        }
        if items.isEmpty { items = pages.map { ($0.page.title, $0.file) } }
        return items
    }

    private func page(
        _ page: WebsiteContent.Page, file: String, _ content: WebsiteContent, _ nav: [(label: String, file: String)], _ contact: String
    ) -> String {
        var body = "<h1>\(HTML.escape(page.title))</h1>\n"
        for (index, section) in page.sections.enumerated() {
            let id = "section-\(index + 1)"
            body += "<section aria-labelledby=\"\(id)\">\n<h2 id=\"\(id)\">\(HTML.escape(section.heading))</h2>\n"
            body += Markup.html(fromMarkdown: section.body, topHeading: 3) + "\n"
            if let cta = section.call_to_action?.trimmingCharacters(in: .whitespacesAndNewlines), !cta.isEmpty {
                body += "<p class=\"cta\"><a class=\"button\" href=\"\(contact)\">\(HTML.escape(cta))</a></p>\n"
            }
            body += "</section>\n"
        }
        let description = page.meta_description.isEmpty ? content.summary : page.meta_description
        let title = file == "index.html" && page.title == content.siteName ? page.title : "\(page.title) · \(content.siteName)"
        return document(
            title: title, description: description, canonical: content.baseURL + (file == "index.html" ? "" : file),
            current: file, content, nav, main: body)
    }

    private func notFound(_ content: WebsiteContent, _ nav: [(label: String, file: String)]) -> String {
        let body = """
            <h1>Page not found</h1>
            <p>The page you asked for is not here. It may have moved, or the address may be mistyped.</p>
            <p><a class="button" href="index.html">Go to the home page</a></p>

            """
        return document(
            title: "Page not found · \(content.siteName)", description: content.summary, canonical: nil, current: nil, content, nav,
            main: body)
    }

    private func document(
        title: String, description: String, canonical: String?, current: String?, _ content: WebsiteContent,
        _ nav: [(label: String, file: String)], main: String
    ) -> String {
        let name = HTML.escape(content.siteName)
        let description = HTML.escape(String(description.prefix(160)), quotes: true)
        var head = """
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title))</title>
            <meta name="description" content="\(description)">

            """
        if let canonical {
            let url = HTML.escape(canonical, quotes: true)
            head += """
                <link rel="canonical" href="\(url)">
                <meta property="og:type" content="website">
                <meta property="og:site_name" content="\(HTML.escape(content.siteName, quotes: true))">
                <meta property="og:title" content="\(HTML.escape(title, quotes: true))">
                <meta property="og:description" content="\(description)">
                <meta property="og:url" content="\(url)">

                """
        } else {
            head += "<meta name=\"robots\" content=\"noindex\">\n"
        }
        head += "<link rel=\"stylesheet\" href=\"style.css\">\n"
        let links = nav.map { item in
            let currentMark = item.file == current ? " aria-current=\"page\"" : ""
            return "<li><a href=\"\(item.file)\"\(currentMark)>\(HTML.escape(item.label))</a></li>"
        }.joined()
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            \(head)</head>
            <body>
            <a class="skip" href="#main">Skip to content</a>
            <header class="site-header">
            <div class="wrap">
            <a class="brand" href="index.html">\(name)</a>
            <nav aria-label="Main"><ul>\(links)</ul></nav>
            </div>
            </header>
            <main id="main">
            <article class="wrap">
            \(main)</article>
            </main>
            <footer class="site-footer">
            <div class="wrap">
            <nav aria-label="Footer"><ul>\(links.replacingOccurrences(of: " aria-current=\"page\"", with: ""))</ul></nav>
            <p>© \(name)</p>
            </div>
            </footer>
            </body>
            </html>

            """
    }

    private func sitemap(_ content: WebsiteContent, _ pages: [(page: WebsiteContent.Page, file: String)]) -> String {
        let urls = pages.map { entry in
            "  <url><loc>\(HTML.escape(content.baseURL + (entry.file == "index.html" ? "" : entry.file)))</loc></url>\n"
        }.joined()
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            \(urls)</urlset>

            """
    }
}
