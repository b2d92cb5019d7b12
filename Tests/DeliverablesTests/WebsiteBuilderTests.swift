import Contracts
import Deliverables
import Foundation
import Testing

@Suite struct WebsiteBuilderTests {
    func build(_ outputs: [String: JSONValue], params: [String: JSONValue] = Fixtures.websiteParams) throws -> (
        files: [DeliverableFile], zip: DeliverableFile
    ) {
        let content = try WebsiteContent(params: params, outputs: outputs, baseURL: "http://localhost:8080/sites/harbour-dental")
        return try WebsiteBuilder().build(content)
    }

    @Test func everyPageIsStrictHTML5AndNoLinkIsBroken() async throws {
        let site = try build(Fixtures.websiteOutputs())
        let folder = try Fixtures.folder("site")
        try Fixtures.write(site.files, to: folder)
        let pages = site.files.filter { $0.path.hasSuffix(".html") }.map { folder.appendingPathComponent($0.path).path }
        #expect(
            Set(site.files.map(\.path)) == [
                "index.html", "services.html", "contact.html", "404.html", "style.css", "sitemap.xml", "robots.txt",
            ])
        let parse = try await Fixtures.run("/usr/bin/python3", [Fixtures.scripts.appendingPathComponent("check_html.py").path] + pages)
        #expect(parse.status == 0, "\(parse.output)\(parse.errors)")
        for page in ["index.html", "404.html"] {
            let links = try await Fixtures.run("linkchecker", ["--no-status", "--no-warnings", folder.appendingPathComponent(page).path])
            #expect(links.status == 0, "\(links.output)")
        }
    }

    @Test func pagesCarrySEONavigationAndLandmarks() throws {
        let site = try build(Fixtures.websiteOutputs())
        let services = try #require(site.files.first { $0.path == "services.html" }).text
        #expect(services.contains("<title>Services · Harbour Dental &amp; Co</title>"))
        #expect(services.contains("<meta name=\"description\" content=\"Services at Harbour Dental in Leith.\">"))
        #expect(services.contains("<link rel=\"canonical\" href=\"http://localhost:8080/sites/harbour-dental/services.html\">"))
        #expect(services.contains("<meta property=\"og:title\""))
        #expect(services.contains("<a href=\"services.html\" aria-current=\"page\">Services</a>"))
        #expect(services.contains("<main id=\"main\">") && services.contains("<nav aria-label=\"Main\">"))
        #expect(services.contains("<a href=\"contact.html\">emergency care</a>"))
        let home = try #require(site.files.first { $0.path == "index.html" }).text
        #expect(home.contains("<a class=\"button\" href=\"contact.html\">Book a check-up</a>"))
        let sitemap = try #require(site.files.first { $0.path == "sitemap.xml" }).text
        #expect(sitemap.contains("<loc>http://localhost:8080/sites/harbour-dental/</loc>"))
        #expect(sitemap.contains("<loc>http://localhost:8080/sites/harbour-dental/contact.html</loc>"))
        #expect(
            try #require(site.files.first { $0.path == "robots.txt" }).text.contains(
                "Sitemap: http://localhost:8080/sites/harbour-dental/sitemap.xml"))
    }

    static let attacks = [
        "<script>alert(1)</script>", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>", "<img src=x onerror=alert(1)>",
        "<a href=\"javascript:alert(1)\">x</a>", "<a href=\"jav&#x61;script:alert(1)\">x</a>",
        "<a href=\" JaVaScRiPt:alert(1)\">x</a>", "<a href=\"java\tscript:alert(1)\">x</a>", "[x](javascript:alert(1))",
        "<svg onload=alert(1)><script>alert(1)</script></svg>", "<iframe src=\"https://evil.example\"></iframe>",
        "<body onload=alert(1)>", "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
        "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
        "<scr<script>ipt>alert(1)</script>", "<<script>script>alert(1)<</script>/script>", "<p onclick=\"alert(1)\">text</p>",
        "<form action=\"javascript:alert(1)\"><button>x</button></form>", "<object data=\"javascript:alert(1)\"></object>",
        "<a href=\"vbscript:msgbox(1)\">x</a>", "<img src=\"x\" alt=\"\" onmouseover=\"alert(1)\" />", "<style>body{display:none}</style>",
        "<!--<script>alert(1)</script>-->", "<p>unclosed <em>emphasis <strong>and</p> <li>stray item", "</div></main></body>",
        "<textarea><script>alert(1)</script></textarea>", "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
        "<base href=\"javascript:alert(1)//\">", "<td>stray cell</td><tr><th>stray row",
        "<table>loose text<tr><td>a<p>b</td><td><table><tr><td>nested</td></tr></table></td></tr><p>after</table>",
        "<img src=`javascript:alert(1)`>",
        "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
    ]

    @Test func nothingExecutableSurvivesAHostilePageBody() async throws {
        let site = try build(Fixtures.websiteOutputs(pageBodies: Self.attacks))
        let folder = try Fixtures.folder("hostile")
        try Fixtures.write(site.files, to: folder)
        for file in site.files where file.path.hasSuffix(".html") {
            let html = file.text.lowercased()
            #expect(!html.contains("<script"), "\(file.path)")
            #expect(!html.contains("javascript:") && !html.contains("vbscript:") && !html.contains("data:text"), "\(file.path)")
            #expect(html.range(of: #"\son[a-z]+\s*="#, options: .regularExpression) == nil, "\(file.path)")
            #expect(!html.contains("<iframe") && !html.contains("<svg") && !html.contains("<style") && !html.contains("<form"))
            #expect(!html.contains("<base") && !html.contains("http-equiv"))
        }
        let pages = site.files.filter { $0.path.hasSuffix(".html") }.map { folder.appendingPathComponent($0.path).path }
        let parse = try await Fixtures.run("/usr/bin/python3", [Fixtures.scripts.appendingPathComponent("check_html.py").path] + pages)
        #expect(parse.status == 0, "hostile bodies still give strict HTML5: \(parse.output)")
    }

    @Test func sanitiserKeepsOrdinaryMarkup() {
        let html = Markup.html(fromMarkdown: "# Title\n\nSome *text* with a [link](https://example.com) and `code`.\n\n1. one\n2. two")
        #expect(
            html
                == "<h2>Title</h2><p>Some <em>text</em> with a <a href=\"https://example.com\">link</a> and <code>code</code>.</p><ol><li>one</li><li>two</li></ol>"
        )
    }

    @Test func tablesAreKeptWhole() {
        let html = Markup.html(fromMarkdown: "| a | b |\n| - | - |\n| 1 | *2* |")
        #expect(html.contains("<table>") && html.contains("<td><em>2</em></td>") && html.hasSuffix("</table>"), "\(html)")
    }

    @Test(arguments: Theme.allCases)
    func everyThemeKeepsTextReadableOnAPoorPalette(theme: Theme) throws {
        let poor: JSONValue = [
            "primary": "#f0f0f0", "secondary": "#777777", "accent": "#ffff00", "background": "#ffffff", "text": "#cccccc",
        ]
        let palette = SitePalette(
            primary: Colour(hex: "#f0f0f0")!, secondary: Colour(hex: "#777777")!, accent: Colour(hex: "#ffff00")!,
            background: Colour(hex: "#ffffff")!, text: Colour(hex: "#cccccc")!)
        for pair in palette.textPairs {
            #expect(pair.text.contrast(with: pair.background) >= 4.5, "\(pair.name)")
        }
        let site = try build(Fixtures.websiteOutputs(palette: poor), params: ["company_name": "X", "theme_style": .string(theme.rawValue)])
        let css = try #require(site.files.first { $0.path == "style.css" }).text
        #expect(css.contains("\(theme.rawValue) theme"))
        #expect(css.contains("color: \(palette.text)") && !css.contains("color: #cccccc"))
    }

    @Test func buildingTwiceGivesTheSameBytes() throws {
        let first = try build(Fixtures.websiteOutputs())
        let second = try build(Fixtures.websiteOutputs())
        #expect(first.zip.data == second.zip.data)
        #expect(first.zip.data.starts(with: [0x50, 0x4B, 0x03, 0x04]))
    }

    @Test func aMissingStageOutputSaysWhich() {
        var outputs = Fixtures.websiteOutputs()
        outputs["design"] = ["palette": ["primary": "#000000"]]
        #expect(throws: DeliverableError.self) { try build(outputs) }
        outputs.removeValue(forKey: "page_content")
        #expect(throws: DeliverableError("there is no approved page content yet")) { try build(outputs) }
    }
}

extension DeliverableFile {
    var text: String { String(decoding: data, as: UTF8.self) }
}
