import Foundation

/// A site's look: three base themes, each one stylesheet written with the approved design's colours and fonts.
/// The workflow's other styles map to the closest: `bold` and `playful` to modern, `corporate` to classic.
public enum Theme: String, Sendable, CaseIterable {
    case modern, classic, minimal

    public init(style: String) {
        switch style {
        case "classic", "corporate": self = .classic
        case "minimal": self = .minimal
        default: self = .modern
        }
    }

    /// A font name from a design, kept only when it is plain words (it goes into CSS).
    static func fontName(_ name: String) -> String? {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 40,
            trimmed.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || $0 == " " || $0 == "-" || ("0"..."9").contains($0) })
        else { return nil }
        return "\"\(trimmed)\", "
    }

    /// The stylesheet for `palette` and the design's fonts.
    public func stylesheet(palette: SitePalette, headingFont: String, bodyFont: String) -> String {
        let sans = "system-ui, -apple-system, \"Segoe UI\", Roboto, \"DejaVu Sans\", sans-serif"
        let serif = "Georgia, \"Times New Roman\", \"DejaVu Serif\", serif"
        let bodyStack = (Self.fontName(bodyFont) ?? "") + (self == .classic ? serif : sans)
        let headingStack = (Self.fontName(headingFont) ?? "") + (self == .classic ? serif : sans)
        let (radius, width, headerAlign) =
            switch self {
            case .modern: ("0.75rem", "72rem", "space-between")
            case .classic: ("0.2rem", "60rem", "center")
            case .minimal: ("0", "44rem", "space-between")
            }
        let headerBackground = self == .minimal ? palette.background : palette.header
        let headerText = self == .minimal ? palette.link : palette.headerText
        return """
            /* \(rawValue) theme, colours from the approved design; every text colour reaches 4.5:1 on its background. */
            *, *::before, *::after { box-sizing: border-box; }
            html { font-size: 100%; -webkit-text-size-adjust: 100%; }
            body { margin: 0; font-family: \(bodyStack); line-height: 1.6; color: \(palette.text); background: \(palette.background); }
            h1, h2, h3, h4 { font-family: \(headingStack); line-height: 1.25; margin: 1.6em 0 0.5em; }
            h1 { font-size: clamp(1.9rem, 4vw, 2.8rem); margin-top: 0.6em; }
            h2 { font-size: 1.5rem; }
            a { color: \(palette.link); }
            a:focus-visible, .button:focus-visible { outline: 3px solid \(palette.link); outline-offset: 2px; }
            img { max-width: 100%; height: auto; }
            .wrap { max-width: \(width); margin: 0 auto; padding: 0 1.25rem; }
            .skip { position: absolute; left: -999px; top: 0; background: \(palette.background); color: \(palette.link); padding: 0.5rem 1rem; }
            .skip:focus { left: 0.5rem; z-index: 10; }
            .site-header { background: \(headerBackground); color: \(headerText); \(self == .minimal ? "border-bottom: 1px solid \(palette.text);" : "") }
            .site-header .wrap { display: flex; flex-wrap: wrap; align-items: center; justify-content: \(headerAlign); gap: 0.75rem 2rem; padding-top: 1rem; padding-bottom: 1rem; \(self == .classic ? "flex-direction: column;" : "") }
            .brand { color: \(headerText); font-family: \(headingStack); font-size: 1.35rem; font-weight: 700; text-decoration: none; }
            .site-header nav ul, .site-footer nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.5rem 1.25rem; }
            .site-header nav a { color: \(headerText); text-decoration: none; padding: 0.25rem 0; border-bottom: 2px solid transparent; }
            .site-header nav a[aria-current="page"], .site-header nav a:hover { border-bottom-color: currentColor; }
            main { padding: 1rem 0 3rem; }
            section { margin: 0 0 2rem; }
            .cta { margin-top: 1.25rem; }
            .button { display: inline-block; background: \(palette.accent); color: \(palette.accentText); padding: 0.7rem 1.3rem; border-radius: \(radius); text-decoration: none; font-weight: 600; }
            blockquote { margin: 1.5rem 0; padding-left: 1rem; border-left: 4px solid \(palette.link); }
            pre { overflow-x: auto; }
            .site-footer { background: \(palette.footer); color: \(palette.footerText); padding: 1.5rem 0; font-size: 0.95rem; }
            .site-footer a { color: \(palette.footerText); }
            @media (max-width: 40rem) {
              .site-header .wrap { flex-direction: column; align-items: flex-start; }
              h1 { font-size: 1.8rem; }
            }

            """
    }
}
