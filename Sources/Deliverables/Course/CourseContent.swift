import Contracts
import Foundation

/// The approved outputs a course is built from, as the course workflow's stages write them.
public struct CourseContent: Sendable {
    public struct Lesson: Codable, Sendable, Equatable {
        public var module: Int
        public var number: Int
        public var title: String
        public var body_markdown: String
        public var exercise: String
    }

    public struct Question: Codable, Sendable, Equatable {
        public var question: String
        public var options: [String]
        public var answer: Int
        public var explanation: String
    }

    public struct Quiz: Codable, Sendable, Equatable {
        public var module: Int
        public var questions: [Question]
    }

    public struct Module: Codable, Sendable, Equatable {
        public var number: Int
        public var title: String
        public var objectives: [String]
    }

    struct Outline: Decodable {
        var modules: [Module]
    }

    struct Objectives: Decodable {
        var objectives: [String]
        var prerequisites: [String]?
    }

    public var title: String
    public var level: String
    public var objectives: [String]
    public var prerequisites: [String]
    public var modules: [Module]
    public var lessons: [Lesson]
    public var quizzes: [Quiz]

    public init(
        title: String, level: String, objectives: [String], prerequisites: [String], modules: [Module], lessons: [Lesson],
        quizzes: [Quiz]
    ) throws {
        self.title = title
        self.level = level
        self.objectives = objectives
        self.prerequisites = prerequisites
        self.modules = modules.sorted { $0.number < $1.number }
        self.lessons = lessons.sorted { ($0.module, $0.number) < ($1.module, $1.number) }
        self.quizzes = quizzes.sorted { $0.module < $1.module }
        try validate()
    }

    public init(params: [String: JSONValue], outputs: [String: JSONValue]) throws {
        func list<T: Decodable>(_ stage: String, _ type: T.Type) throws -> [T] {
            guard let value = outputs[stage] else { throw DeliverableError("there is no approved output of stage '\(stage)' yet") }
            return try (value.arrayValue ?? [value]).enumerated().map { try $1.decode(T.self, as: "item \($0 + 1) of stage '\(stage)'") }
        }
        guard let outline = outputs["outline"] else { throw DeliverableError("there is no approved course outline yet") }
        let objectives = try outputs["objectives"]?.decode(Objectives.self, as: "the output of stage 'objectives'")
        try self.init(
            title: params["title"]?.stringValue ?? "Course", level: params["level"]?.stringValue ?? "",
            objectives: objectives?.objectives ?? [], prerequisites: objectives?.prerequisites ?? [],
            modules: try outline.decode(Outline.self, as: "the output of stage 'outline'").modules,
            lessons: try list("lessons", Lesson.self), quizzes: try list("quizzes", Quiz.self))
    }

    /// Every quiz answer is one of its options, and every lesson and quiz belongs to a module of the outline.
    func validate() throws {
        guard !lessons.isEmpty else { throw DeliverableError("the course has no lesson") }
        let numbers = Set(modules.map(\.number))
        for lesson in lessons where !numbers.contains(lesson.module) {
            throw DeliverableError("lesson '\(lesson.title)' belongs to module \(lesson.module), which the outline does not have")
        }
        for quiz in quizzes {
            guard numbers.contains(quiz.module) else {
                throw DeliverableError("the quiz of module \(quiz.module) belongs to no module of the outline")
            }
            for (index, question) in quiz.questions.enumerated() {
                guard question.options.count >= 2 else {
                    throw DeliverableError("module \(quiz.module), question \(index + 1): a question needs at least two options")
                }
                guard question.options.indices.contains(question.answer) else {
                    throw DeliverableError(
                        "module \(quiz.module), question \(index + 1): the answer \(question.answer) is not one of its \(question.options.count) options (counted from 0)"
                    )
                }
            }
        }
    }

    /// The course in reading order: each module's lessons, then its quiz, each with the page it is on.
    var pages: [(module: Module, lesson: Lesson?, quiz: Quiz?, file: String, title: String)] {
        var pages: [(Module, Lesson?, Quiz?, String, String)] = []
        var lessonCount = 0
        for (moduleIndex, module) in modules.enumerated() {
            for lesson in lessons where lesson.module == module.number {
                lessonCount += 1
                pages.append((module, lesson, nil, String(format: "lesson-%02d.html", lessonCount), lesson.title))
            }
            if let quiz = quizzes.first(where: { $0.module == module.number && !$0.questions.isEmpty }) {
                pages.append((module, nil, quiz, "quiz-\(moduleIndex + 1).html", "Quiz: \(module.title)"))
            }
        }
        return pages
    }
}
