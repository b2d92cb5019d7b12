import Contracts
import Foundation

/// How the portal says where a project stands, in words a person without the vocabulary of the engine reads.
struct ProjectRow: Sendable {
    var id: String
    var name: String
    var template: String
    var state: String
    var stateLabel: String
    var stage: String?
    var waiting: String?
    var progress: Int
    var cost: String
    var created: String
    var href: String
    var needsYou: Bool
    var finished: Bool

    init(_ project: ProjectView) {
        id = project.id
        name = project.name
        template = project.template.capitalized
        state = project.state.rawValue
        stateLabel = Self.label(project.state)
        stage = project.stage
        waiting = project.waitingFor.map(Self.label) ?? project.message
        progress = project.progress
        cost = Money.format(project.cost)
        created = Dates.short(project.createdAt)
        href = "/portal/projects/\(project.id)"
        needsYou = project.state == .approvalPending || project.waitingFor == .advance
        finished = project.state == .done || project.state == .failed
    }

    static func label(_ state: ProjectState) -> String {
        switch state {
        case .draft: "Not started"
        case .running: "Working"
        case .approvalPending: "Waiting for your approval"
        case .paused: "Paused"
        case .done: "Done"
        case .failed: "Failed"
        }
    }

    static func label(_ waiting: WaitingFor) -> String {
        switch waiting {
        case .generation: "writing"
        case .action: "building"
        case .advance: "waiting for you to continue"
        case .timer: "waiting a moment before it goes on"
        case .approval: "waiting for your approval"
        }
    }
}

enum Money {
    /// US dollars, to the cent; under a cent shown as such rather than as nothing.
    static func format(_ dollars: Double) -> String {
        if dollars == 0 { return "$0.00" }
        if dollars < 0.01 { return "under $0.01" }
        return String(format: "$%.2f", dollars)
    }

    /// An amount of US dollars as a person types it (`5`, `2.50`, `2,50`): positive, or nil.
    static func dollars(_ text: String) -> Double? {
        guard let dollars = Double(text.replacingOccurrences(of: ",", with: ".")), dollars.isFinite, dollars > 0 else { return nil }
        return dollars
    }
}

enum Dates {
    static func short(_ date: Date) -> String {
        date.formatted(.dateTime.year().month(.abbreviated).day().hour().minute())
    }
}

enum Wording {
    /// A code or a key in words: `landing_page` as "Landing page", `metaDescription` as "Meta description".
    static func words(_ code: String) -> String {
        var spaced = ""
        for character in code {
            if character == "_" || character == "-" {
                spaced.append(" ")
            } else if character.isUppercase, let last = spaced.last, last.isLowercase {
                spaced += " " + character.lowercased()
            } else {
                spaced.append(character)
            }
        }
        return spaced.prefix(1).uppercased() + spaced.dropFirst()
    }
}
