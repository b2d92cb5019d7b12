import Contracts
import Foundation

/// What a survey's responses add up to, per question: counts per answer for choices, ratings and scales; the mean
/// for ratings, scales and numbers; how many answered.
public struct SurveySummary: Codable, Sendable, Equatable {
    public struct Item: Codable, Sendable, Equatable {
        public var question: String
        public var text: String
        public var type: String
        public var answered: Int
        public var counts: [Count]?
        public var mean: Double?
    }

    public struct Count: Codable, Sendable, Equatable {
        public var answer: String
        public var count: Int

        public init(answer: String, count: Int) {
            self.answer = answer
            self.count = count
        }
    }

    public var responses: Int
    public var questions: [Item]

    public init(_ definition: SurveyDefinition, responses: [SurveyResponse]) {
        self.responses = responses.count
        questions = definition.questions.map { question in
            let given = responses.compactMap { $0.answers[question.id] }
            var item = Item(question: question.id, text: question.text, type: question.type.rawValue, answered: given.count)
            if !question.choices.isEmpty {
                item.counts = question.choices.map { choice in Count(answer: choice, count: given.filter { $0.contains(choice) }.count) }
            }
            if question.type.hasScale || question.type == .number {
                let numbers = given.compactMap { $0.first.flatMap(Double.init) }
                if !numbers.isEmpty { item.mean = (numbers.reduce(0, +) / Double(numbers.count) * 100).rounded() / 100 }
            }
            return item
        }
    }
}

/// Responses as CSV (RFC 4180): a header row, one column per question after the response's id and time, CRLF line
/// ends, and a field quoted when it holds a comma, a quote or a line break. Several choices join with "; ".
public enum SurveyCSV {
    public static func export(_ definition: SurveyDefinition, responses: [SurveyResponse]) -> String {
        let formatter = ISO8601DateFormatter()
        var rows = [["response_id", "submitted_at"] + definition.questions.map(\.id)]
        for response in responses {
            rows.append(
                [response.id, formatter.string(from: response.submittedAt)]
                    + definition.questions.map { (response.answers[$0.id] ?? []).joined(separator: "; ") })
        }
        return CSV.document(rows)
    }
}
