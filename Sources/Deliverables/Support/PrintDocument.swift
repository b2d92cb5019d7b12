import Foundation

/// A print-ready PDF from one HTML document: A5 pages, a title page, a table of contents with page numbers and a
/// page number at the foot of every page after the title, typeset by weasyprint.
enum PrintDocument {
    static func html(title: String, titlePage: String, toc: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>\(HTML.escape(title))</title>
        <style>
        @page { size: A5; margin: 18mm 16mm 20mm; @bottom-center { content: counter(page); font: 9pt "DejaVu Sans", sans-serif; } }
        @page :first { @bottom-center { content: none; } }
        body { font: 10.5pt/1.5 "DejaVu Serif", serif; }
        h1, h2, h3, h4 { font-family: "DejaVu Sans", sans-serif; line-height: 1.2; break-after: avoid; }
        .title-page { break-after: page; text-align: center; padding-top: 45mm; }
        .title-page h1 { font-size: 24pt; }
        .title-page .subtitle { font-size: 13pt; font-style: italic; }
        .title-page .author { margin-top: 25mm; font-size: 12pt; }
        .toc { break-after: page; }
        .toc ol { list-style: none; padding: 0; }
        .toc li { margin: 0.3em 0; }
        .toc a { color: inherit; text-decoration: none; }
        .toc a::after { content: leader('.') target-counter(attr(href), page); }
        .part { break-before: page; }
        a { color: inherit; }
        pre, code { font-family: "DejaVu Sans Mono", monospace; font-size: 9pt; }
        </style>
        </head>
        <body>
        <section class="title-page">
        \(titlePage)
        </section>
        <nav class="toc" aria-label="Contents">
        <h2>Contents</h2>
        <ol>
        \(toc)
        </ol>
        </nav>
        \(body)
        </body>
        </html>

        """
    }

    /// `html` typeset to PDF by weasyprint, in `workspace`.
    static func pdf(html: String, name: String, workspace: URL) async throws -> Data {
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        let input = workspace.appendingPathComponent("\(name).print.html")
        let output = workspace.appendingPathComponent("\(name).pdf")
        try Data(html.utf8).write(to: input)
        defer {
            try? FileManager.default.removeItem(at: input)
            try? FileManager.default.removeItem(at: output)
        }
        try await ExternalTool.weasyprint.run(["--quiet", input.lastPathComponent, output.lastPathComponent], in: workspace)
        return try Data(contentsOf: output)
    }

    /// `text` broken into lines of at most `width` characters at spaces.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
