import Contracts
import Deliverables
import Foundation
import ServiceTestSupport

/// Approved outputs a real project could have, fixed, for building each deliverable.
enum Fixtures {
    static func page(_ slug: String, _ title: String, body: String, cta: String? = nil) -> JSONValue {
        var section: [String: JSONValue] = ["heading": .string("About \(title)"), "body": .string(body)]
        if let cta { section["call_to_action"] = .string(cta) }
        return [
            "slug": .string(slug), "title": .string(title), "meta_description": .string("\(title) at Harbour Dental in Leith."),
            "sections": [.object(section), ["heading": "What to expect", "body": "- Calm rooms\n- Clear prices\n\n**Book** today."]],
        ]
    }

    static let websiteParams: [String: JSONValue] = [
        "company_name": "Harbour Dental & Co", "industry": "dental clinic", "theme_style": "modern",
    ]

    static func websiteOutputs(pageBodies: [String]? = nil, palette: JSONValue? = nil) -> [String: JSONValue] {
        let bodies =
            pageBodies ?? [
                "We are a family dental practice by the harbour. *Nervous patients* are welcome.",
                "Check-ups, hygiene and [emergency care](contact.html) for all ages.",
                "Call us or write: we answer within a day.",
            ]
        let slugs = ["", "services", "contact"]
        let titles = ["Harbour Dental & Co", "Services", "Contact"]
        let pages = bodies.enumerated().map { index, body in
            page(
                slugs[index % 3] + (index >= 3 ? "-\(index)" : ""), titles[index % 3], body: body, cta: index == 0 ? "Book a check-up" : nil
            )
        }
        return [
            "analysis": ["summary": "A family dental practice in Leith."],
            "sitemap": [
                "pages": [],
                "navigation": [
                    ["label": "Home", "slug": ""], ["label": "Services", "slug": "services"], ["label": "Contact", "slug": "contact"],
                ],
            ],
            "design": [
                "palette": palette ?? [
                    "primary": "#1f5f8b", "secondary": "#16324f", "accent": "#f2a541", "background": "#ffffff", "text": "#222222",
                ],
                "typography": ["heading_font": "Inter", "body_font": "Source Sans 3"],
                "layout": "", "imagery": "", "rationale": "",
            ],
            "page_content": .array(pages),
        ]
    }

    /// A fresh folder under the temporary directory.
    static func folder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("aiwf-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `files` under `folder`, creating subfolders.
    static func write(_ files: [DeliverableFile], to folder: URL) throws {
        try DeliverableFile.write(files, to: folder)
    }

    /// Runs a program found on the PATH.
    static func run(_ program: String, _ arguments: [String]) async throws -> ProcessOutput {
        try await runProcess(URL(fileURLWithPath: "/usr/bin/env"), [program] + arguments)
    }

    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts")
}

extension Fixtures {
    static let ebookParams: [String: JSONValue] = [
        "title": "Bread at Home", "author": "Ada Baker", "topic": "Baking sourdough bread at home", "audience": "home cooks",
    ]

    static func ebookOutputs(chapterBodies: [String]? = nil) -> [String: JSONValue] {
        let bodies =
            chapterBodies ?? [
                "Flour, water, salt and time.\n\n## The starter\n\nFeed it **daily**. See [the guild](https://example.com).",
                "Mixing by hand:\n\n1. Weigh\n2. Mix\n3. Rest\n\n> Patience is an ingredient.",
                "Bake hot, then lower the heat. A [broken link](missing.html) and an ![image](pic.png) stay out of the book.",
            ]
        return [
            "outline": ["subtitle": "Slow loaves for busy people", "promise": "You will bake a good loaf.", "chapters": []],
            "chapters": .array(
                bodies.enumerated().map { index, body in
                    [
                        "number": .number(Double(index + 1)), "title": .string("Chapter about step \(index + 1) & more"),
                        "body_markdown": .string(body),
                    ]
                }),
            "matter": [
                "introduction": "Why bake at home.", "conclusion": "Keep baking.", "about_the_author": "Ada bakes in Leeds.",
                "blurb": "A friendly *guide* to bread.",
            ],
        ]
    }
}

extension Fixtures {
    static let courseParams: [String: JSONValue] = ["title": "Spreadsheets for Shopkeepers", "level": "beginner"]

    static func courseOutputs(answer: Int = 1) -> [String: JSONValue] {
        [
            "objectives": ["objectives": ["Keep a stock list", "Total a day's sales", "Chart a month"], "prerequisites": []],
            "outline": [
                "modules": [
                    ["number": 1, "title": "Lists", "objectives": ["Keep a stock list"]],
                    ["number": 2, "title": "Sums & charts", "objectives": ["Total sales"]],
                ],
                "lessons": [],
            ],
            "lessons": [
                [
                    "module": 1, "number": 1, "title": "Rows and columns", "body_markdown": "A sheet is a grid.\n\n- Rows\n- Columns",
                    "exercise": "Make a list.",
                ],
                ["module": 1, "number": 2, "title": "Sorting", "body_markdown": "Sort by *name*.", "exercise": "Sort it."],
                ["module": 2, "number": 1, "title": "SUM", "body_markdown": "Use `=SUM(A1:A9)`.", "exercise": "Total a day."],
            ],
            "quizzes": [
                [
                    "module": 1,
                    "questions": [
                        [
                            "question": "What runs across?", "options": ["Columns", "Rows", "Cells"], "answer": .number(Double(answer)),
                            "explanation": "Rows run across.",
                        ],
                        [
                            "question": "What sorts A to Z?", "options": ["Sort ascending", "Filter", "Freeze"], "answer": 0,
                            "explanation": "Ascending.",
                        ],
                    ],
                ],
                [
                    "module": 2,
                    "questions": [
                        ["question": "Which adds up?", "options": ["AVG", "SUM", "MAX"], "answer": 1, "explanation": "SUM adds."]
                    ],
                ],
            ],
        ]
    }
}

extension Fixtures {
    static func videoOutputs() -> [String: JSONValue] {
        [
            "script": [
                "title": "Why Bake Sourdough",
                "beats": [
                    ["number": 1, "narration": "", "on_screen": "Real bread, at home", "seconds": 4],
                    ["number": 2, "narration": "", "on_screen": "Three ingredients & time", "seconds": 4],
                ],
            ],
            "storyboard": [
                "scenes": [
                    [
                        "number": 1, "duration_seconds": 4,
                        "narration": "Good bread needs only flour, water and salt, and a little patience.",
                        "shots": [["description": "A loaf, cut open", "camera": "close-up", "seconds": 4]],
                    ],
                    [
                        "number": 2, "duration_seconds": 5,
                        "narration": "Mix in the evening, shape in the morning, and bake for forty minutes. That is all it takes to start.",
                        "shots": [
                            ["description": "Hands, dough, \"bowl\"", "camera": "overhead", "seconds": 3],
                            ["description": "Oven", "camera": "wide", "seconds": 2],
                        ],
                    ],
                    [
                        "number": 3, "duration_seconds": 3, "narration": "Try it this weekend.",
                        "shots": [["description": "Kitchen table", "camera": "wide", "seconds": 3]],
                    ],
                ]
            ],
        ]
    }
}
