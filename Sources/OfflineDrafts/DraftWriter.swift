import Contracts
import Foundation

/// What the offline provider reads from a prompt: whom or what the text is for, the facts the prompt gives, how
/// many items it asks for, which numbered item it is about, and a script's beats.
public struct Brief: Sendable {
    /// The company, book, course, survey or video the prompt is about.
    public var subject: String
    /// `Label: value` facts (and `Label:` with the value on the next line), in order.
    public var facts: [(label: String, value: String)]
    /// "exactly 10 pages" → pages: 10.
    public var counts: [String: Int]
    /// "lesson 2.3" → (2, 3); "chapter 4" / "module 4" → (4, nil).
    public var item: (major: Int, minor: Int?)?
    /// Quoted names in the first line: `lesson 1.2, "Title", of the course "Course"` → [Title, Course].
    public var quoted: [String]
    /// The bullet lines under "Sections…:", in order: what a page's sections are about.
    public var sections: [String]
    /// A page's title and slug as a page prompt gives them (`Page: Services (slug "services")`).
    public var page: (title: String, slug: String)?
    /// A script's beats as a storyboard prompt lists them: seconds, narration, on-screen text.
    public var beats: [(seconds: Double, narration: String, onScreen: String)]
    /// What the text is about in a few words: the industry, topic or subject.
    public var topic: String
    public var audience: String
    let prompt: String
    /// Mixed into every choice of words, so one request always gets the same answer and two requests differ.
    public var seed: UInt64

    public init(prompt: String) {
        self.prompt = prompt
        let lines = prompt.split(separator: "\n", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
        var facts: [(label: String, value: String)] = []
        for (index, line) in lines.enumerated() {
            let line = line.hasPrefix("- ") ? String(line.dropFirst(2)) : line
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard !line.hasPrefix("{"), parts.count >= 1, parts[0].count < 60, !parts[0].isEmpty,
                line.contains(":")
            else { continue }
            if parts.count == 2, !parts[1].isEmpty {
                facts.append((parts[0], parts[1]))
            } else if index + 1 < lines.count, !lines[index + 1].isEmpty, !lines[index + 1].hasPrefix("-") {
                facts.append((parts[0], lines[index + 1]))
            }
        }
        self.facts = facts
        let first = lines.first ?? ""
        func fact(_ names: [String]) -> String? {
            facts.first { fact in names.contains { fact.label.lowercased().hasPrefix($0) } }?.value
        }
        let quoted = first.matches(of: /"([^"]{2,120})"/).map { String($0.1) }
        self.quoted = quoted
        if let start = lines.firstIndex(where: { $0.lowercased().hasPrefix("sections") }) {
            sections = lines[(start + 1)...].prefix { $0.hasPrefix("- ") }.map { String($0.dropFirst(2)) }
            if sections.isEmpty, let inline = lines[start].split(separator: ":", maxSplits: 1).last, inline.hasPrefix(" -") {
                sections = [String(inline.dropFirst(2))]
            }
        } else {
            sections = []
        }
        if let line = lines.first(where: { $0.hasPrefix("Page: ") }), let match = line.firstMatch(of: /^Page: (.*) \(slug "([^"]*)"\)$/) {
            page = (String(match.1), String(match.2))
        } else {
            page = nil
        }
        let forName = first.firstMatch(of: /(?:website|site) (?:for|of) ([^.(]{2,80}?)(?: \(|\.|$)/).map { String($0.1) }
        let about = fact(["what it is about", "topic"]).map { $0.split(separator: " ").prefix(8).joined(separator: " ") }
        subject =
            fact(["business", "company"]) ?? forName ?? quoted.last.flatMap { $0.count <= 80 ? $0 : nil } ?? fact(["title"]) ?? about
            ?? "your project"
        topic =
            fact(["industry", "what it is about", "what the book", "what the course", "what the business does", "subject", "topic"])
            ?? subject
        let named = first.firstMatch(of: #/ for ([^.()]{3,80})[.(]/#).map { String($0.1) }.flatMap {
            $0 == forName || $0.hasPrefix("a ") || $0.hasPrefix("an ") ? nil : $0
        }
        audience = fact(["target audience", "audience", "readers", "learners", "who"]) ?? named ?? "the people you serve"
        var counts: [String: Int] = [:]
        for match in prompt.matches(of: /(?i)exactly\s+(\d{1,3})\s+([a-z_]+)/) { counts[match.2.lowercased()] = Int(match.1) }
        let planned = prompt.matches(of: /\((\d{1,3}) questions\)/).compactMap { Int($0.1) }
        if !planned.isEmpty { counts["questions"] = planned.reduce(0, +) }
        if let seconds = prompt.firstMatch(of: /add up to (\d{1,4}) seconds/).flatMap({ Int($0.1) }) {
            counts["beats"] = max(2, seconds / 9)
        }
        self.counts = counts
        if let match = first.firstMatch(of: /(?i)lesson (\d+)\.(\d+)/) {
            item = (Int(match.1) ?? 1, Int(match.2))
        } else if let match = first.firstMatch(of: /(?i)(?:chapter|module) (\d+)/) {
            item = (Int(match.1) ?? 1, nil)
        } else {
            item = nil
        }
        beats = prompt.matches(of: /(?m)^\d+\. \(([\d.]+) s\) (.*) — on screen: (.*)$/).map {
            (Double($0.1) ?? 5, String($0.2), String($0.3))
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in prompt.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        seed = hash
    }

    /// Whether the prompt is about a business's website (else a book, course, survey or video).
    public var isWebsite: Bool { facts.contains { ["business", "company"].contains($0.label.lowercased()) } || prompt.contains("website") }

    /// A short form of the topic for use inside a sentence.
    var shortTopic: String {
        let words = topic.split(separator: " ").prefix(8).joined(separator: " ")
        return words.trimmingCharacters(in: CharacterSet(charactersIn: ".,;:")).lowercasedFirst
    }
}

/// Writes the offline provider's answers: a value for the requested schema whose texts read like a first draft
/// written from the brief — headlines like headlines, paragraphs like paragraphs, a quiz question with options and
/// one right answer — the same for the same request, and always valid against the schema.
public struct DraftWriter: Sendable {
    public let brief: Brief
    private var counter = 0
    private var paragraphs = 0

    public init(prompt: String) {
        brief = Brief(prompt: prompt)
    }

    /// Bounds on what a schema (which comes from outside) may make this write: list lengths, text lengths, nesting.
    public static let maximumItems = 50
    public static let maximumTextLength = 20_000
    public static let maximumDepth = 32

    /// A count a schema asks for, held within `0...limit`; numbers out of range or not whole never trap.
    static func count(_ value: JSONValue?, default fallback: Int, limit: Int) -> Int {
        guard let number = value?.numberValue, number.isFinite else { return fallback }
        return Int(min(max(number, 0), Double(limit)))
    }

    /// A number from the seed, the same for the same request, field and position.
    private mutating func pick(_ count: Int) -> Int {
        counter += 1
        guard count > 0 else { return 0 }
        var value = brief.seed &+ UInt64(counter) &* 0x9E37_79B9_7F4A_7C15
        value ^= value >> 31
        return Int(value % UInt64(count))
    }

    private mutating func choose(_ options: [String]) -> String { options[pick(options.count)] }

    /// A draft in Markdown for a request with no schema: a heading and a few paragraphs about the brief.
    public mutating func prose() -> String {
        "# \(subject)\n\n\(paragraph())\n\n\(paragraph())\n\n\(paragraph())\n"
    }

    public mutating func instance(of schema: JSONValue, name: String, index: Int? = nil, depth: Int = 0) -> JSONValue {
        guard depth < Self.maximumDepth else { return .null }
        if let constant = schema["const"] { return constant }
        if let options = schema["enum"]?.arrayValue, !options.isEmpty {
            // Different items of a list take different values (question types, for one), the first otherwise.
            return options[(index ?? 0) % options.count]
        }
        let type = schema["type"]?.stringValue ?? schema["type"]?.arrayValue?.first?.stringValue ?? "string"
        switch type {
        case "object": return object(schema, name: name, index: index, depth: depth)
        case "array": return array(schema, name: name, depth: depth)
        case "integer", "number": return number(schema, name: name, index: index, integer: type == "integer")
        case "boolean": return .bool(name != "anonymous" && (index ?? 0) % 3 != 2)
        case "null": return .null
        default: return .string(text(schema, name: name, index: index))
        }
    }

    private mutating func object(_ schema: JSONValue, name: String, index: Int?, depth: Int) -> JSONValue {
        let properties = schema["properties"]?.objectValue ?? [:]
        let required = Set((schema["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        var members: [String: JSONValue] = [:]
        for (key, subschema) in properties.sorted(by: { $0.key < $1.key }) {
            // Optional parts that only make sense when chosen on purpose (skip logic) are left out.
            if !required.contains(key) && ["show_if"].contains(key) { continue }
            members[key] = instance(of: subschema, name: key, index: index, depth: depth + 1)
        }
        fix(&members, properties: properties, index: index)
        return .object(members)
    }

    /// Makes the members of one object agree with each other, as a writer would.
    private mutating func fix(_ members: inout [String: JSONValue], properties: [String: JSONValue], index: Int?) {
        if let options = members["options"]?.arrayValue, !options.isEmpty, members["answer"] != nil {
            // The right option is written first; it moves to a place of its own so answers are not always "a".
            let answer = pick(options.count)
            members["options"] = .array(Array(options[(options.count - answer)...] + options[..<(options.count - answer)]))
            members["answer"] = .number(Double(answer))
        }
        if let pages = members["pages"]?.arrayValue, members["navigation"] != nil {
            members["navigation"] = .array(
                pages.map { page in
                    let title = page["title"]?.stringValue ?? "Page"
                    return ["label": .string(String(title.prefix(30))), "slug": page["slug"] ?? ""]
                })
        }
        if let type = members["type"]?.stringValue, members["text"] != nil, properties["options"] != nil {
            // A survey question: choices only where they are asked for, a scale only for ratings and scales.
            let isChoice = type == "single_choice" || type == "multiple_choice"
            if !isChoice { members.removeValue(forKey: "options") }
            if type == "rating" || type == "scale" {
                members["scale"] =
                    type == "rating"
                    ? ["min": 1, "max": 5, "min_label": "Very poor", "max_label": "Excellent"]
                    : ["min": 0, "max": 10, "min_label": "Not at all likely", "max_label": "Extremely likely"]
            } else {
                members.removeValue(forKey: "scale")
            }
            if type == "number" {
                members["validation"] = ["min": 0, "max": 1000]
            } else if type == "text" || type == "long_text" {
                members["validation"] = ["max_length": .number(type == "text" ? 200 : 2000)]
            } else {
                members.removeValue(forKey: "validation")
            }
            members["text"] = .string(question(for: type, index: index ?? 0))
            members["id"] = .string("q\((index ?? 0) + 1)_" + Self.words(of: type))
        }
        if let shots = members["shots"]?.arrayValue, members["duration_seconds"] != nil {
            let total = shots.compactMap { $0["seconds"]?.numberValue }.reduce(0, +)
            if total > 0 { members["duration_seconds"] = .number(total) }
        }
    }

    private mutating func array(_ schema: JSONValue, name: String, depth: Int) -> JSONValue {
        let minimum = Self.count(schema["minItems"], default: 1, limit: Self.maximumItems)
        let maximum = max(minimum, Self.count(schema["maxItems"], default: Self.maximumItems, limit: Self.maximumItems))
        var wanted = brief.counts[name] ?? (name == "scenes" && !brief.beats.isEmpty ? brief.beats.count : nil)
        if name == "lessons", wanted == nil, let modules = brief.counts["modules"] { wanted = modules * 3 }
        if name == "questions", wanted == nil { wanted = 5 }
        let count = min(max(minimum, wanted ?? min(max(minimum, 3), maximum)), maximum)
        var items: [JSONValue] = []
        for index in 0..<count {
            items.append(instance(of: schema["items"] ?? ["type": "string"], name: Self.singular(name), index: index, depth: depth + 1))
        }
        if name == "pages" {
            // A site of three pages or more ends with a contact page, where its calls to action lead.
            if items.count >= 3, var last = items[items.count - 1].objectValue {
                last["title"] = "Contact us"
                last["slug"] = "contact"
                last["purpose"] = .string("Lets visitors reach \(subject) in the way that suits them.")
                items[items.count - 1] = .object(last)
            }
            items = Self.uniqueSlugs(items)
        }
        return .array(items)
    }

    private mutating func number(_ schema: JSONValue, name: String, index: Int?, integer: Bool) -> JSONValue {
        let minimum = schema["minimum"]?.numberValue ?? (name == "answer" ? 0 : 1)
        let maximum = schema["maximum"]?.numberValue ?? max(minimum, 1000)
        var value: Double
        switch name {
        case "number":
            value = Double(index.map { $0 + 1 } ?? brief.item?.minor ?? brief.item?.major ?? 1)
        case "module":
            // Three lessons to a module in an outline; a lesson or quiz keeps the module its prompt names.
            value = Double(index.map { $0 / 3 + 1 } ?? brief.item?.major ?? 1)
        case "seconds" where brief.counts["beats"] != nil:
            value = 10
        case "seconds", "duration_seconds":
            value = index.flatMap { $0 < brief.beats.count ? brief.beats[$0].seconds : nil } ?? Double(3 + pick(4))
        case "start_seconds": value = Double((index ?? 0) * 4)
        case "end_seconds": value = Double((index ?? 0) * 4 + 4)
        case "question_count": value = 4
        default: value = Double(pick(10) + 1)
        }
        value = min(max(minimum, value), maximum)
        return .number(integer ? value.rounded(.down) : value)
    }

    // MARK: Text

    private mutating func text(_ schema: JSONValue, name: String, index: Int?) -> String {
        let minimum = Self.count(schema["minLength"], default: 0, limit: Self.maximumTextLength)
        let maximum = Self.count(schema["maxLength"], default: Self.maximumTextLength, limit: Self.maximumTextLength)
        if let pattern = schema["pattern"]?.stringValue {
            return patterned(pattern, name: name, index: index, maximum: maximum)
        }
        var text = phrase(for: name, index: index ?? 0)
        while text.count < minimum { text += "\n\n" + paragraph() }
        if text.count > maximum {
            text = String(text.prefix(maximum))
            if let space = text.lastIndex(of: " "), text.distance(from: text.startIndex, to: space) > maximum / 2 {
                text = String(text[..<space])
            }
        }
        return text
    }

    private var subject: String { brief.subject }
    private var topic: String { brief.shortTopic }
    private var audience: String { brief.audience.lowercasedFirst }

    /// The text a field of this name holds, written for the brief.
    private mutating func phrase(for name: String, index: Int) -> String {
        switch name {
        case "title" where givenTitle != nil:
            return givenTitle!
        case "heading":
            return index < brief.sections.count
                ? brief.sections[index] : ["Welcome", "What we do", "Why it matters", "How to start", "Questions"][index % 5]
        case "title", "headline", "label":
            return title(index: index)
        case "subtitle":
            return choose(["A practical guide for \(audience)", "Clear steps, real examples", "What works, and why"])
        case "slug":
            if let page = brief.page { return page.slug }
            return index == 0 ? "" : Self.slug(title(index: index))
        case "description" where brief.counts["beats"] != nil || !brief.beats.isEmpty:
            return ["A close view of", "A wide view of", "Hands at work on", "A calm, slow shot of", "Bold titles over"][
                (index + pick(5)) % 5]
                + " " + topic
        case "summary", "description", "rationale", "intent", "purpose", "goal", "promise", "value_proposition":
            return sentence(for: name, index: index)
        case "meta_description":
            return String(
                "\(subject): \(choose(["what we offer", "how we can help", "who we are"])) for \(audience), explained plainly.".prefix(155))
        case "tone_of_voice":
            return "Warm, plain and confident: we talk to \(audience) like a helpful neighbour. For example: \"Here is what to expect.\""
        case "body", "body_markdown", "introduction", "conclusion", "about_the_author", "blurb", "exercise", "explanation":
            return body(for: name, index: index)
        case "narration":
            if index < brief.beats.count, !brief.beats[index].narration.isEmpty { return brief.beats[index].narration }
            return narration(index: index)
        case "on_screen":
            return title(index: index)
        case "hook":
            return "What if \(topic) took less time than you think? In the next minute, \(subject) shows you how."
        case "logline":
            return "A short, friendly explainer that shows \(audience) how \(topic) works and what to do next."
        case "style":
            return "Clean motion graphics with bold titles and calm narration, because \(audience) want clarity, not noise."
        case "call_to_action":
            return choose(["Get in touch", "Book a visit", "Ask us a question", "See what we offer"])
        case "keyword":
            return [topic, "\(topic) near me", "best \(topic)", "\(subject.lowercased())", "\(topic) advice", "affordable \(topic)"][
                index % 6]
        case "segment":
            return ["First-time visitors", "Returning customers", "People comparing options", "Local families"][index % 4]
        case "need", "goal_item":
            return ["Know what is offered and what it costs", "Trust the people behind it", "Find how to get in touch quickly"][index % 3]
        case "section":
            return ["Welcome and what we do", "How it works", "Why choose us", "Questions people ask", "Next step"][index % 5]
        case "option":
            return option(index: index)
        case "question":
            return [
                "Which approach works best when you start with \(topic)?", "What should you check first?",
                "What is the most common mistake?",
                "Which step comes next?", "Why does the small first step help?",
            ][index % 5]
        case "research_question":
            return [
                "What do \(audience) value most about \(subject)?", "Where does \(subject) fall short today?",
                "What would make people recommend \(subject)?",
            ][index % 3]
        case "text":
            return String(narration(index: index).prefix(80))
        case "objective", "key_point":
            return objective(index: index)
        case "camera":
            return ["wide", "medium", "close-up", "animation", "screen capture"][index % 5]
        case "layout":
            return
                "A slim header with the name and menu, a hero with one clear action, alternating text and image sections, and a footer with contact details."
        case "imagery":
            return "Real photographs of the place and people; no generic stock images, no clip art."
        case "decision", "prerequisite":
            return ["Which service to promote first", "Whether to change opening hours", "What to improve next"][index % 3]
        case "heading_font": return choose(["Inter", "Merriweather", "Source Serif 4", "Poppins"])
        case "body_font": return choose(["Source Sans 3", "Open Sans", "Lato", "Noto Sans"])
        default:
            let label = name.replacingOccurrences(of: "_", with: " ")
            return "\(label.prefix(1).uppercased() + label.dropFirst()) for \(subject), written with \(audience) in mind."
        }
    }

    private mutating func title(index: Int) -> String {
        let titles =
            brief.isWebsite
            ? [
                subject, "About \(subject)", "What we offer", "How it works", "Questions and answers", "Getting started",
                "Working with \(subject)", "Our approach", "Stories and examples", "Get in touch", "Plans and prices", "Next steps",
            ]
            : [
                "Getting started with \(topic)", "The core ideas", "Putting it into practice", "Common mistakes and how to avoid them",
                "Tools that help", "Real examples", "Going further", "Checking your progress", "Planning your next steps",
                "Bringing it together", "Habits that last", "Questions worth asking",
            ]
        return titles[index % titles.count]
    }

    /// The title of the one item a prompt is about (a page, a lesson, a chapter, a quiz), kept as given.
    private var givenTitle: String? {
        if let page = brief.page { return page.title }
        return brief.item != nil && brief.quoted.count >= 2 ? brief.quoted[0] : nil
    }

    private mutating func sentence(for name: String, index: Int) -> String {
        let openings = [
            "\(subject) helps \(audience) with \(topic), clearly and without fuss.",
            "For \(audience), \(subject) makes \(topic) simple to understand and easy to act on.",
            "\(subject) exists so that \(audience) can get \(topic) right the first time.",
        ]
        let follow = [
            "This part explains what to expect and how to take the next step.",
            "It answers the questions people ask most before they decide.",
            "It keeps the promise small and specific, so it is easy to keep.",
        ]
        return openings[(index + pick(3)) % 3] + " " + follow[(index + pick(3)) % 3]
    }

    private mutating func paragraph() -> String {
        let sentences = [
            "Most \(audience) come to \(topic) with one question: where do I start?",
            "The answer is to take one small, concrete step and see what it changes.",
            "\(subject) works this way because it is easier to keep going when the first result comes quickly.",
            "Plain words beat jargon here; if a term matters, it is explained where it first appears.",
            "A short example makes the idea stick better than a long description.",
            "Mistakes are part of it, and the common ones are easy to avoid once you know them.",
            "When something is unclear, ask: a good answer now saves time later.",
            "By the end, you will know what to do next and why it works.",
        ]
        let openings =
            brief.isWebsite
            ? [
                "\(subject) is here for \(audience) who want \(topic) done properly.",
                "If you are one of \(audience), \(topic) should feel simple, and \(subject) keeps it that way.",
                "At \(subject), \(topic) starts with listening to \(audience).",
                "Good \(topic) is mostly about clear steps, and \(subject) puts them in order for \(audience).",
            ]
            : [
                "This part is written for \(audience), and it starts from what you already know.",
                "\(topic.prefix(1).uppercased() + topic.dropFirst()) gets easier once you see the pattern behind it.",
                "The aim here is simple: make \(topic) practical for \(audience).",
                "Start with the idea, then try it: that is how \(topic) sticks.",
            ]
        let start = pick(sentences.count)
        paragraphs += 1
        return
            ([openings[(pick(openings.count) + paragraphs) % openings.count]]
            + (0..<3).map { sentences[(start + $0 * 3) % sentences.count] }).joined(separator: " ")
    }

    private mutating func body(for name: String, index: Int) -> String {
        switch name {
        case "body_markdown":
            return """
                \(paragraph())

                ## Why it matters

                \(paragraph())

                ## A worked example

                Picture one of \(audience) who wants to get started with \(topic). They set aside twenty minutes, follow the steps below, and check the result.

                1. Decide what a good result looks like.
                2. Do the smallest version of it.
                3. Compare, adjust, and repeat once.

                ## Common mistakes

                - Trying to do everything at once.
                - Skipping the check at the end.

                ## Recap

                \(paragraph())
                """
        case "exercise":
            return
                "Take twenty minutes to apply this to a real case of your own. A good answer names the goal, the step you took and what you would change next time."
        case "explanation":
            return "This is right because it follows the main idea of the lesson; the other options describe common misunderstandings."
        case "about_the_author":
            return "\(subject) is written for \(audience) by someone who has practised \(topic) for years and explains it in plain words."
        case "blurb":
            return "A friendly, practical guide to \(topic) for \(audience): short chapters, real examples and clear next steps."
        default:
            return paragraph() + (name == "body" ? "\n\n" + paragraph() : "")
        }
    }

    private mutating func narration(index: Int) -> String {
        let lines = [
            "Here is \(topic), explained simply.", "Many people start with one question: where do I begin?",
            "The answer is one small step, taken today, and checked tomorrow.",
            "\(subject) makes that first step clear, so nothing is left to guesswork.",
            "You see a result quickly, and that is what keeps you going.",
            "Mistakes happen, and the common ones are easy to avoid once you know them.",
            "Plain words beat jargon, and a short example beats a long speech.",
            "Ready to try? Get in touch with \(subject) and start this week.",
        ]
        // About as many words as a 10-second beat holds when spoken (espeak-ng says about 2.6 words a second).
        var spoken: [String] = []
        var next = index * 3
        while spoken.joined(separator: " ").split(separator: " ").count < 18 {
            spoken.append(lines[next % lines.count])
            next += 1
        }
        return spoken.joined(separator: " ")
    }

    private mutating func objective(index: Int) -> String {
        [
            "Explain the core ideas of \(topic) in your own words", "Apply \(topic) to a simple real case",
            "Spot and avoid the most common mistakes", "Plan the next steps with confidence", "Check your own work against clear criteria",
        ][index % 5]
    }

    private mutating func option(index: Int) -> String {
        [
            "Start small and check the result", "Do everything at once", "Wait until it is perfect", "Ask someone else to decide",
            "None of these",
        ][
            index % 5]
    }

    /// A question that reads like one, fitting its type.
    private func question(for type: String, index: Int) -> String {
        switch type {
        case "single_choice": return "How did you first hear about \(subject)?"
        case "multiple_choice": return "Which of these matter most to you? Choose all that apply."
        case "rating": return "How would you rate your last experience with \(subject)?"
        case "scale": return "How likely are you to recommend \(subject) to a friend?"
        case "long_text": return "What is one thing \(subject) could do better?"
        case "number": return "How many times have you used \(subject) in the past year?"
        case "email": return "What e-mail address may we reply to, if you would like an answer?"
        case "date": return "When did you last visit?"
        default: return "In a few words, what brought you to \(subject)?"
        }
    }

    /// A value for the patterns templates use (colours, slugs, identifiers), checked against the pattern.
    private mutating func patterned(_ pattern: String, name: String, index: Int?, maximum: Int) -> String {
        let slug = index == 0 && name == "slug" ? "" : Self.slug(title(index: index ?? 0))
        let identifier = "q\((index ?? 0) + 1)_" + Self.words(of: name)
        let palette = ["#1f3a5f", "#3d7ea6", "#f2a541", "#fafafa", "#222222"]
        let colour = ["primary": palette[0], "secondary": palette[1], "accent": palette[2], "background": palette[3], "text": palette[4]][
            name]
        let candidates = [
            colour ?? palette[pick(palette.count)], slug, identifier, identifier.replacingOccurrences(of: "_", with: ""), "", "a",
        ]
        let expression = try? NSRegularExpression(pattern: pattern)
        for candidate in candidates where candidate.count <= maximum {
            if expression?.firstMatch(in: candidate, range: NSRange(candidate.startIndex..., in: candidate)) != nil { return candidate }
        }
        return String(slug.prefix(maximum))
    }

    static func slug(_ text: String) -> String {
        var slug = ""
        for character in text.lowercased() {
            if character.isASCII && (character.isLetter || character.isNumber) {
                slug.append(character)
            } else if !slug.isEmpty && slug.last != "-" {
                slug.append("-")
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        return String(slug.prefix(40))
    }

    static func words(of name: String) -> String {
        name.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }

    /// The home page keeps the empty slug; the others get their own, made unique.
    static func uniqueSlugs(_ pages: [JSONValue]) -> [JSONValue] {
        var seen = Set<String>()
        return pages.enumerated().map { index, page in
            guard var members = page.objectValue, let slug = members["slug"]?.stringValue else { return page }
            var candidate = index == 0 ? "" : (slug.isEmpty ? "page-\(index + 1)" : slug)
            var suffix = 2
            while seen.contains(candidate) {
                candidate = "\(slug.isEmpty ? "page" : slug)-\(suffix)"
                suffix += 1
            }
            seen.insert(candidate)
            members["slug"] = .string(candidate)
            return .object(members)
        }
    }

    private static func singular(_ name: String) -> String {
        switch name {
        case "keywords": "keyword"
        case "needs": "need"
        case "goals": "goal_item"
        case "sections": "section"
        case "options": "option"
        case "objectives": "objective"
        case "key_points": "key_point"
        case "research_questions": "research_question"
        case "decisions": "decision"
        case "prerequisites": "prerequisite"
        default: name.hasSuffix("s") ? String(name.dropLast()) : name
        }
    }
}

extension String {
    /// The text with its first letter made small when it starts a common phrase ("Families in Leith"), not a name
    /// ("Harbour Dental").
    fileprivate var lowercasedFirst: String {
        let words = split(separator: " ")
        guard let first, first.isUppercase, words.count < 2 || words[1].first?.isLowercase == true else { return self }
        return first.lowercased() + dropFirst()
    }
}
