import Contracts

/// The approved outputs a website is built from, as the website workflow's stages write them.
public struct WebsiteContent: Sendable {
    public struct Page: Decodable, Sendable {
        public struct Section: Decodable, Sendable {
            public var heading: String
            public var body: String
            public var call_to_action: String?
        }
        public var slug: String
        public var title: String
        public var meta_description: String
        public var sections: [Section]
    }

    public struct NavigationItem: Decodable, Sendable {
        public var label: String
        public var slug: String
    }

    public struct Design: Decodable, Sendable {
        public struct Palette: Decodable, Sendable {
            public var primary: String
            public var secondary: String
            public var accent: String
            public var background: String
            public var text: String
        }
        public struct Typography: Decodable, Sendable {
            public var heading_font: String
            public var body_font: String
        }
        public var palette: Palette
        public var typography: Typography
    }

    struct Sitemap: Decodable {
        var navigation: [NavigationItem]
    }

    struct Analysis: Decodable {
        var summary: String?
    }

    public var siteName: String
    public var theme: Theme
    public var design: Design
    public var pages: [Page]
    public var navigation: [NavigationItem]
    /// What the site is about, for pages without a description of their own.
    public var summary: String
    /// Where the published site lives, ending in `/` (canonical URLs, Open Graph, `sitemap.xml`).
    public var baseURL: String

    public init(
        siteName: String, theme: Theme, design: Design, pages: [Page], navigation: [NavigationItem], summary: String,
        baseURL: String
    ) {
        self.siteName = siteName
        self.theme = theme
        self.design = design
        self.pages = pages
        self.navigation = navigation
        self.summary = summary
        self.baseURL = baseURL.hasSuffix("/") ? baseURL : baseURL + "/"
    }

    /// The content from a website project's params and its stages' outputs (`sitemap`, `design`, `page_content`).
    public init(params: [String: JSONValue], outputs: [String: JSONValue], baseURL: String) throws {
        guard let pages = outputs["page_content"] else { throw DeliverableError("there is no approved page content yet") }
        let pageList = pages.arrayValue ?? [pages]
        let decodedPages = try pageList.enumerated().map { index, page in
            try page.decode(Page.self, as: "page \(index + 1) of stage 'page_content'")
        }
        guard !decodedPages.isEmpty else { throw DeliverableError("stage 'page_content' wrote no page") }
        guard let design = outputs["design"] else { throw DeliverableError("there is no approved design yet") }
        let navigation = try outputs["sitemap"]?.decode(Sitemap.self, as: "the output of stage 'sitemap'").navigation ?? []
        let summary = (try? outputs["analysis"]?.decode(Analysis.self, as: "analysis"))??.summary
        self.init(
            siteName: params["company_name"]?.stringValue ?? "Website",
            theme: Theme(style: params["theme_style"]?.stringValue ?? "modern"),
            design: try design.decode(Design.self, as: "the output of stage 'design'"), pages: decodedPages,
            navigation: navigation, summary: summary ?? "", baseURL: baseURL)
    }
}
