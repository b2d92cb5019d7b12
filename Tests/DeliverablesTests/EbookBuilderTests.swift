import Contracts
import Deliverables
import Foundation
import Testing
import ZIPFoundation

@Suite struct EbookBuilderTests {
    func content(_ outputs: [String: JSONValue] = Fixtures.ebookOutputs()) throws -> EbookContent {
        try EbookContent(
            identifier: "5b0c6c9e-3f0e-4a35-9d55-2f7f1d9a7e10", params: Fixtures.ebookParams, outputs: outputs,
            modified: "2026-12-02T10:00:00Z")
    }

    @Test func theEPUBPassesEpubcheckWithNoErrorAndNoWarning() async throws {
        let folder = try Fixtures.folder("epub")
        let hostile = Fixtures.ebookOutputs(chapterBodies: WebsiteBuilderTests.attacks + ["Plain & simple < text >"])
        for (name, outputs) in [("book", Fixtures.ebookOutputs()), ("hostile", hostile)] {
            let file = folder.appendingPathComponent("\(name).epub")
            try EbookBuilder().epub(try content(outputs)).write(to: file)
            let check = try await Fixtures.run("java", ["-jar", "/usr/share/java/epubcheck.jar", file.path])
            #expect(check.status == 0, "\(name): \(check.output)\(check.errors)")
            #expect(!(check.output + check.errors).contains("WARNING"), "\(name): \(check.output)\(check.errors)")
            #expect((check.output + check.errors).contains("No errors or warnings detected"), "\(name)")
        }
    }

    @Test func theEPUBStartsWithAStoredMimetypeAndHoldsEveryChapter() throws {
        let data = try EbookBuilder().epub(try content())
        let archive = try Archive(data: data, accessMode: .read)
        let entries = Array(archive)
        #expect(entries.first?.path == "mimetype")
        #expect(entries.first?.compressedSize == entries.first?.uncompressedSize)
        #expect(String(decoding: data[30..<38], as: UTF8.self) == "mimetype")
        let paths = Set(entries.map(\.path))
        for expected in [
            "META-INF/container.xml", "EPUB/package.opf", "EPUB/nav.xhtml", "EPUB/cover.xhtml", "EPUB/style.css",
            "EPUB/chapter-01.xhtml", "EPUB/chapter-02.xhtml", "EPUB/chapter-03.xhtml", "EPUB/introduction.xhtml",
        ] {
            #expect(paths.contains(expected), "\(expected)")
        }
        #expect(try EbookBuilder().epub(try content()) == data, "building twice gives the same bytes")
    }

    @Test func thePDFAndTheMarkdownCopy() async throws {
        let files = try await EbookBuilder().build(try content(), workspace: try Fixtures.folder("pdf"))
        #expect(files.map(\.path) == ["bread-at-home.epub", "bread-at-home.pdf", "bread-at-home.md"])
        let pdf = files[1].data
        #expect(pdf.starts(with: Data("%PDF-".utf8)))
        let pages = String(decoding: pdf, as: UTF8.self).components(separatedBy: "/Type /Page\n").count - 1
        let pageCount = String(decoding: pdf, as: UTF8.self).components(separatedBy: "/Type /Page").count - 1
        #expect(max(pages, pageCount) >= 6, "title page, contents and five parts")
        let markdown = files[2].text
        #expect(markdown.hasPrefix("# Bread at Home\n\n_Slow loaves for busy people_\n\nby Ada Baker"))
        #expect(markdown.contains("## 2. Chapter about step 2 & more"))
    }
}
