import Contracts
import Foundation

/// A published survey: its questions with their types, choices, scales, validation and skip logic.
public struct SurveyDefinition: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case singleChoice = "single_choice"
        case multipleChoice = "multiple_choice"
        case rating, scale, text
        case longText = "long_text"
        case number, email, date

        var hasOptions: Bool { self == .singleChoice || self == .multipleChoice }
        var hasScale: Bool { self == .rating || self == .scale }
    }

    public struct Scale: Codable, Sendable, Equatable {
        public var min: Int?
        public var max: Int?
        public var min_label: String?
        public var max_label: String?

        public init(min: Int? = nil, max: Int? = nil, min_label: String? = nil, max_label: String? = nil) {
            (self.min, self.max, self.min_label, self.max_label) = (min, max, min_label, max_label)
        }
    }

    public struct Validation: Codable, Sendable, Equatable {
        public var min: Double?
        public var max: Double?
        public var max_length: Int?

        public init(min: Double? = nil, max: Double? = nil, max_length: Int? = nil) {
            (self.min, self.max, self.max_length) = (min, max, max_length)
        }
    }

    /// Show a question only when an earlier question's answer is `equals` (or one of `in`).
    public struct Condition: Codable, Sendable, Equatable {
        public var question: String
        public var equals: String?
        public var `in`: [String]?

        public init(question: String, equals: String? = nil, in values: [String]? = nil) {
            self.question = question
            self.equals = equals
            self.in = values
        }

        var values: [String] { (equals.map { [$0] } ?? []) + (self.in ?? []) }
    }

    public struct Question: Codable, Sendable, Equatable {
        public var id: String
        public var section: String?
        public var text: String
        public var type: Kind
        public var required: Bool
        public var options: [String]?
        public var scale: Scale?
        public var validation: Validation?
        public var show_if: Condition?

        public init(
            id: String, section: String? = nil, text: String, type: Kind, required: Bool, options: [String]? = nil,
            scale: Scale? = nil, validation: Validation? = nil, show_if: Condition? = nil
        ) {
            self.id = id
            self.section = section
            self.text = text
            self.type = type
            self.required = required
            self.options = options
            self.scale = scale
            self.validation = validation
            self.show_if = show_if
        }

        /// The lowest and highest value of a rating (1 to 5 unless given) or a scale (0 to 10 unless given).
        public var range: ClosedRange<Int> {
            let low = scale?.min ?? (type == .rating ? 1 : 0)
            let high = scale?.max ?? (type == .rating ? 5 : 10)
            return low...Swift.max(low, high)
        }

        /// The answers a choice, rating or scale question can take, as submitted.
        public var choices: [String] {
            if type.hasOptions { return options ?? [] }
            if type.hasScale { return range.map(String.init) }
            return []
        }
    }

    public var id: String
    public var title: String
    public var description: String
    public var anonymous: Bool
    public var questions: [Question]

    public init(id: String, title: String, description: String, anonymous: Bool, questions: [Question]) {
        self.id = id
        self.title = title
        self.description = description
        self.anonymous = anonymous
        self.questions = questions
    }

    struct Questions: Decodable {
        var questions: [Question]
    }

    /// The definition from a survey project's params and its approved `questions` stage.
    public init(id: String, params: [String: JSONValue], outputs: [String: JSONValue]) throws {
        guard let questions = outputs["questions"] else { throw DeliverableError("there are no approved questions yet") }
        self.init(
            id: id, title: params["title"]?.stringValue ?? "Survey", description: params["purpose"]?.stringValue ?? "",
            anonymous: params["anonymous"] == .bool(true),
            questions: try questions.decode(Questions.self, as: "the output of stage 'questions'").questions)
        let problems = problems()
        guard problems.isEmpty else { throw DeliverableError("the survey cannot be published: " + problems.joined(separator: "; ")) }
    }

    /// What is wrong with the definition, one sentence each; empty when it can be published.
    public func problems() -> [String] {
        var problems: [String] = []
        var seen: [String: Question] = [:]
        if questions.isEmpty { problems.append("it has no question") }
        for (index, question) in questions.enumerated() {
            let name = "question \(index + 1) ('\(question.id)')"
            if question.id.range(of: "^[a-z][a-z0-9_]*$", options: .regularExpression) == nil {
                problems.append("\(name): the id must be lower-case letters, digits and _ , starting with a letter")
            }
            if seen[question.id] != nil { problems.append("\(name): the id is used twice") }
            if question.text.trimmingCharacters(in: .whitespaces).isEmpty { problems.append("\(name): the question has no text") }
            if question.type.hasOptions {
                let options = question.options ?? []
                if Set(options).count < 2 || options.count != Set(options).count {
                    problems.append("\(name): a choice question needs at least two different options")
                }
            }
            if question.type.hasScale, let scale = question.scale, let low = scale.min, let high = scale.max {
                if low >= high || high - low > 10 { problems.append("\(name): the scale must run upwards over at most 11 points") }
            }
            if let validation = question.validation, let low = validation.min, let high = validation.max, low > high {
                problems.append("\(name): validation.min is above validation.max")
            }
            if let condition = question.show_if {
                if let target = seen[condition.question] {
                    if !target.type.hasOptions && !target.type.hasScale {
                        problems.append("\(name): skip logic can only depend on a choice, rating or scale question")
                    } else if condition.values.isEmpty {
                        problems.append("\(name): show_if names no answer to compare with")
                    } else if let bad = condition.values.first(where: { !target.choices.contains($0) }) {
                        problems.append("\(name): show_if compares '\(condition.question)' with '\(bad)', which is not one of its answers")
                    }
                } else if condition.question == question.id {
                    problems.append("\(name): show_if depends on the question itself")
                } else if questions.contains(where: { $0.id == condition.question }) {
                    problems.append("\(name): show_if depends on '\(condition.question)', which comes later; skip logic looks back only")
                } else {
                    problems.append("\(name): show_if depends on '\(condition.question)', which does not exist")
                }
            }
            seen[question.id] = question
        }
        return problems
    }

    /// Whether `question` is shown, given the answers so far.
    public func isShown(_ question: Question, answers: [String: [String]]) -> Bool {
        guard let condition = question.show_if else { return true }
        guard let target = questions.first(where: { $0.id == condition.question }), isShown(target, answers: answers) else {
            return false
        }
        return !(answers[condition.question] ?? []).filter { condition.values.contains($0) }.isEmpty
    }

    /// The answers to keep (those of shown questions, trimmed) and what is wrong with them, by question id.
    public func check(_ submitted: [String: [String]]) -> (answers: [String: [String]], errors: [String: String]) {
        var answers: [String: [String]] = [:]
        var errors: [String: String] = [:]
        for question in questions {
            let values = (submitted[question.id] ?? []).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            guard isShown(question, answers: answers) else { continue }
            if values.isEmpty {
                if question.required { errors[question.id] = "Please answer this question." }
                continue
            }
            if let error = Self.problem(with: values, for: question) {
                errors[question.id] = error
            } else {
                answers[question.id] = values
            }
        }
        return (answers, errors)
    }

    static func problem(with values: [String], for question: Question) -> String? {
        if question.type != .multipleChoice && values.count > 1 { return "Give one answer." }
        let value = values[0]
        switch question.type {
        case .singleChoice, .multipleChoice, .rating, .scale:
            return values.allSatisfy(question.choices.contains) ? nil : "Choose one of the answers offered."
        case .number:
            guard let number = Double(value), number.isFinite else { return "Enter a number." }
            if let low = question.validation?.min, number < low { return "Enter a number of at least \(Self.format(low))." }
            if let high = question.validation?.max, number > high { return "Enter a number of at most \(Self.format(high))." }
            return nil
        case .email:
            return EmailAddress.isValid(value) ? nil : "Enter an e-mail address such as name@example.com."
        case .date:
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.dateFormat = "yyyy-MM-dd"
            return formatter.date(from: value) == nil ? "Enter a date as YYYY-MM-DD." : nil
        case .text, .longText:
            let limit = question.validation?.max_length ?? (question.type == .text ? 500 : 5_000)
            return value.count > limit ? "Keep the answer to \(limit) characters." : nil
        }
    }

    static func format(_ number: Double) -> String {
        number == number.rounded() ? String(Int(number)) : String(number)
    }
}
