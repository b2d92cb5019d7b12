import Foundation

/// Builds a course from approved content: a JSON manifest, an HTML version (one page per lesson and quiz; a quiz
/// checks its answers in the page), a SCORM 1.2 package with every page a SCO, and a PDF handbook.
public struct CourseBuilder: Sendable {
    public init() {}

    public func build(_ course: CourseContent, workspace: URL) async throws -> [DeliverableFile] {
        let pages = htmlPages(course)
        let handbook = try await PrintDocument.pdf(html: handbookHTML(course), name: "handbook", workspace: workspace)
        return [
            DeliverableFile(path: "course.json", mediaType: MediaType.json, data: try manifest(course)),
            DeliverableFile(path: "course-html.zip", mediaType: MediaType.zip, data: try ZipWriter.archive(pages)),
            DeliverableFile(
                path: "course-scorm.zip", mediaType: MediaType.zip,
                data: try ZipWriter.archive(
                    [DeliverableFile(path: "imsmanifest.xml", mediaType: MediaType.xml, text: scormManifest(course))] + pages)),
            DeliverableFile(path: "course-handbook.pdf", mediaType: MediaType.pdf, data: handbook),
        ]
    }

    /// The course as JSON: modules with their lessons (and their files) and quizzes with answers and explanations.
    public func manifest(_ course: CourseContent) throws -> Data {
        struct Manifest: Encodable {
            struct ModuleEntry: Encodable {
                var number: Int
                var title: String
                var objectives: [String]
                var lessons: [LessonEntry]
                var quiz: CourseContent.Quiz?
                var quizFile: String?
            }
            struct LessonEntry: Encodable {
                var lesson: CourseContent.Lesson
                var file: String
                func encode(to encoder: any Encoder) throws {
                    try lesson.encode(to: encoder)
                    var container = encoder.container(keyedBy: Key.self)
                    try container.encode(file, forKey: .file)
                }
                enum Key: CodingKey { case file }
            }
            var title: String
            var level: String
            var objectives: [String]
            var prerequisites: [String]
            var modules: [ModuleEntry]
        }
        let pages = course.pages
        let modules = course.modules.map { module in
            let quizPage = pages.first { $0.module == module && $0.quiz != nil }
            return Manifest.ModuleEntry(
                number: module.number, title: module.title, objectives: module.objectives,
                lessons: pages.filter { $0.module == module && $0.lesson != nil }.map { .init(lesson: $0.lesson!, file: $0.file) },
                quiz: quizPage?.quiz, quizFile: quizPage?.file)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(
            Manifest(
                title: course.title, level: course.level, objectives: course.objectives, prerequisites: course.prerequisites,
                modules: modules))
    }

    /// The HTML version: a contents page, one page per lesson and quiz, a stylesheet and two small scripts.
    public func htmlPages(_ course: CourseContent) -> [DeliverableFile] {
        let pages = course.pages
        var files: [DeliverableFile] = []
        var contents = "<h1>\(HTML.escape(course.title))</h1>\n"
        if !course.objectives.isEmpty {
            contents += "<h2>What you will learn</h2>\n<ul>\(course.objectives.map { "<li>\(HTML.escape($0))</li>" }.joined())</ul>\n"
        }
        for module in course.modules {
            contents += "<h2>Module \(module.number): \(HTML.escape(module.title))</h2>\n<ol>"
            contents += pages.filter { $0.module == module }.map { "<li><a href=\"\($0.file)\">\(HTML.escape($0.title))</a></li>" }.joined()
            contents += "</ol>\n"
        }
        files.append(
            DeliverableFile(path: "index.html", mediaType: MediaType.html, text: document(course, title: course.title, main: contents)))
        for (index, page) in pages.enumerated() {
            var main = "<p class=\"module\">Module \(page.module.number): \(HTML.escape(page.module.title))</p>\n"
            if let lesson = page.lesson {
                main += "<h1>\(HTML.escape(lesson.title))</h1>\n\(Markup.html(fromMarkdown: lesson.body_markdown))\n"
                main += "<section class=\"exercise\" aria-labelledby=\"exercise\"><h2 id=\"exercise\">Exercise</h2>\n"
                main += Markup.html(fromMarkdown: lesson.exercise) + "</section>\n"
            } else if let quiz = page.quiz {
                main += "<h1>\(HTML.escape(page.title))</h1>\n" + quizForm(quiz)
            }
            var pager = "<nav class=\"pager\" aria-label=\"Lessons\">"
            if index > 0 { pager += "<a href=\"\(pages[index - 1].file)\" rel=\"prev\">Previous</a> " }
            pager += "<a href=\"index.html\">Contents</a>"
            if index + 1 < pages.count { pager += " <a href=\"\(pages[index + 1].file)\" rel=\"next\">Next</a>" }
            main += pager + "</nav>\n"
            files.append(
                DeliverableFile(
                    path: page.file, mediaType: MediaType.html,
                    text: document(course, title: page.title, main: main, quiz: page.quiz != nil)))
        }
        files.append(DeliverableFile(path: "style.css", mediaType: MediaType.css, text: Self.stylesheet))
        files.append(DeliverableFile(path: "scorm.js", mediaType: MediaType.javascript, text: Self.scormScript))
        files.append(DeliverableFile(path: "quiz.js", mediaType: MediaType.javascript, text: Self.quizScript))
        return files
    }

    private func quizForm(_ quiz: CourseContent.Quiz) -> String {
        var form = "<form class=\"quiz\" data-quiz>\n"
        for (number, question) in quiz.questions.enumerated() {
            let name = "q\(number + 1)"
            form += "<fieldset data-answer=\"\(question.answer)\">\n<legend>\(number + 1). \(HTML.escape(question.question))</legend>\n"
            for (index, option) in question.options.enumerated() {
                let id = "\(name)-\(index)"
                form +=
                    "<div><input type=\"radio\" name=\"\(name)\" id=\"\(id)\" value=\"\(index)\"> <label for=\"\(id)\">\(HTML.escape(option))</label></div>\n"
            }
            form += "<p class=\"explanation\" hidden>\(HTML.escape(question.explanation))</p>\n"
            form += "<p class=\"verdict\" role=\"status\"></p>\n</fieldset>\n"
        }
        return form + "<p><button type=\"submit\">Check my answers</button></p>\n<p class=\"score\" role=\"status\"></p>\n</form>\n"
    }

    private func document(_ course: CourseContent, title: String, main: String, quiz: Bool = false) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTML.escape(title)) · \(HTML.escape(course.title))</title>
        <link rel="stylesheet" href="style.css">
        <script src="scorm.js" defer></script>
        \(quiz ? "<script src=\"quiz.js\" defer></script>\n" : "")</head>
        <body>
        <header><p class="course"><a href="index.html">\(HTML.escape(course.title))</a></p></header>
        <main>
        \(main)</main>
        </body>
        </html>

        """
    }

    /// The SCORM 1.2 manifest: one organisation, one item and one SCO resource per page, the shared files as assets.
    func scormManifest(_ course: CourseContent) -> String {
        let pages = course.pages
        var items = ""
        var resources = ""
        for module in course.modules {
            items +=
                "      <item identifier=\"module-\(module.number)\">\n        <title>\(HTML.escape("Module \(module.number): \(module.title)"))</title>\n"
            for page in pages where page.module == module {
                let id = page.file.replacingOccurrences(of: ".html", with: "")
                items +=
                    "        <item identifier=\"item-\(id)\" identifierref=\"res-\(id)\"><title>\(HTML.escape(page.title))</title></item>\n"
                resources += """
                        <resource identifier="res-\(id)" type="webcontent" adlcp:scormtype="sco" href="\(page.file)">
                          <file href="\(page.file)"/>
                          <dependency identifierref="shared"/>
                        </resource>

                    """
            }
            items += "      </item>\n"
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <manifest identifier="aiwf-\(Markup.slug(course.title, fallback: "course"))" version="1.0"
              xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
              xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"
              xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
              xsi:schemaLocation="http://www.imsproject.org/xsd/imscp_rootv1p1p2 imscp_rootv1p1p2.xsd http://www.imsglobal.org/xsd/imsmd_rootv1p2p1 imsmd_rootv1p2p1.xsd http://www.adlnet.org/xsd/adlcp_rootv1p2 adlcp_rootv1p2.xsd">
              <metadata>
                <schema>ADL SCORM</schema>
                <schemaversion>1.2</schemaversion>
              </metadata>
              <organizations default="course">
                <organization identifier="course">
                  <title>\(HTML.escape(course.title))</title>
            \(items)    </organization>
              </organizations>
              <resources>
            \(resources)    <resource identifier="shared" type="webcontent" adlcp:scormtype="asset">
                  <file href="index.html"/>
                  <file href="style.css"/>
                  <file href="scorm.js"/>
                  <file href="quiz.js"/>
                </resource>
              </resources>
            </manifest>

            """
    }

    func handbookHTML(_ course: CourseContent) -> String {
        let pages = course.pages
        let toc = pages.map { "<li><a href=\"#\($0.file)\">\(HTML.escape($0.title))</a></li>" }.joined(separator: "\n")
        let body = pages.map { page -> String in
            var section = "<section class=\"part\" id=\"\(page.file)\"><h1>\(HTML.escape(page.title))</h1>\n"
            if let lesson = page.lesson {
                section += Markup.html(fromMarkdown: lesson.body_markdown, selfContained: true)
                section += "<h2>Exercise</h2>\n" + Markup.html(fromMarkdown: lesson.exercise, selfContained: true)
            } else if let quiz = page.quiz {
                section +=
                    "<ol>"
                    + quiz.questions.map { question in
                        "<li><p>\(HTML.escape(question.question))</p><ol type=\"a\">"
                            + question.options.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ol>"
                            + "<p><em>Answer: \(HTML.escape(question.options[question.answer])). \(HTML.escape(question.explanation))</em></p></li>"
                    }.joined() + "</ol>"
            }
            return section + "</section>"
        }.joined(separator: "\n")
        let objectives = course.objectives.map { "<li>\(HTML.escape($0))</li>" }.joined()
        return PrintDocument.html(
            title: course.title,
            titlePage:
                "<h1>\(HTML.escape(course.title))</h1>\n<p class=\"subtitle\">Course handbook\(course.level.isEmpty ? "" : " · \(HTML.escape(course.level))")</p>\n<ul style=\"text-align: left\">\(objectives)</ul>",
            toc: toc, body: body)
    }

    static let stylesheet = """
        body { margin: 0 auto; max-width: 46rem; padding: 0 1.25rem 3rem; font: 1.05rem/1.6 system-ui, "DejaVu Sans", sans-serif; color: #1d1d1f; background: #ffffff; }
        header { border-bottom: 1px solid #c9ced6; margin-bottom: 1.5rem; }
        a { color: #1f4e8c; }
        .module { color: #4a5260; margin-bottom: 0; }
        .exercise { background: #f3f6fa; border-left: 4px solid #1f4e8c; padding: 0.5rem 1rem; margin: 2rem 0; }
        fieldset { border: 1px solid #c9ced6; border-radius: 0.5rem; margin: 1rem 0; padding: 0.75rem 1rem; }
        legend { font-weight: 600; padding: 0 0.25rem; }
        .verdict.right { color: #1b6b34; } .verdict.wrong { color: #a1261b; }
        button { font: inherit; padding: 0.6rem 1.2rem; background: #1f4e8c; color: #ffffff; border: 0; border-radius: 0.4rem; cursor: pointer; }
        button:focus-visible, a:focus-visible, input:focus-visible { outline: 3px solid #1f4e8c; outline-offset: 2px; }
        .pager { display: flex; gap: 1.5rem; margin-top: 2.5rem; }

        """

    /// Tells an LMS (SCORM 1.2 runtime, found in a parent window) that the page was opened and completed; does
    /// nothing outside an LMS.
    static let scormScript = """
        (function () {
          function findAPI(win) {
            for (var depth = 0; win && depth < 10; depth++) {
              if (win.API) return win.API;
              if (win.parent === win) break;
              win = win.parent;
            }
            return window.opener && window.opener.API ? window.opener.API : null;
          }
          var api = findAPI(window);
          window.aiwfScorm = {
            score: function (raw) {
              if (!api) return;
              api.LMSSetValue("cmi.core.score.min", "0");
              api.LMSSetValue("cmi.core.score.max", "100");
              api.LMSSetValue("cmi.core.score.raw", String(raw));
              api.LMSSetValue("cmi.core.lesson_status", raw >= 80 ? "passed" : "failed");
              api.LMSCommit("");
            }
          };
          if (!api) return;
          api.LMSInitialize("");
          if (!document.querySelector("[data-quiz]")) api.LMSSetValue("cmi.core.lesson_status", "completed");
          api.LMSCommit("");
          window.addEventListener("pagehide", function () { api.LMSFinish(""); });
        })();

        """

    /// Checks a quiz's answers in the page: each question says right or wrong with its explanation, then the score.
    static let quizScript = """
        document.addEventListener("DOMContentLoaded", function () {
          var form = document.querySelector("[data-quiz]");
          if (!form) return;
          form.addEventListener("submit", function (event) {
            event.preventDefault();
            var sets = form.querySelectorAll("fieldset");
            var right = 0;
            sets.forEach(function (set) {
              var chosen = set.querySelector("input:checked");
              var correct = chosen && chosen.value === set.getAttribute("data-answer");
              if (correct) right++;
              var verdict = set.querySelector(".verdict");
              verdict.textContent = !chosen ? "Choose an answer." : correct ? "Right." : "Not quite.";
              verdict.className = "verdict " + (correct ? "right" : "wrong");
              set.querySelector(".explanation").hidden = !chosen;
            });
            var score = Math.round(100 * right / sets.length);
            form.querySelector(".score").textContent = "You answered " + right + " of " + sets.length + " correctly (" + score + "%).";
            if (window.aiwfScorm) window.aiwfScorm.score(score);
          });
        });

        """
}
