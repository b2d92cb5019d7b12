import Contracts
import Foundation
import Mustache

/// The texts people read, as Mustache templates (plain text, nothing escaped).
enum NotificationTexts {
    static let subjects: [NotificationKind: String] = [
        .requested: "Approval needed: {{stage}} of project {{project}}",
        .reminder: "Reminder: your approval is still needed: {{stage}} of project {{project}}",
        .escalated: "Escalated to you: approval of {{stage}} of project {{project}}",
        .decided: "Approval {{state}}: {{stage}} of project {{project}}",
        .expired: "Approval expired: {{stage}} of project {{project}}",
    ]

    static let bodies: [NotificationKind: String] = [
        .requested: """
        Hello,

        Project {{project}} waits for your {{type}} approval of its {{stage}} stage.

        {{summary}}
        {{#items}}
          - {{title}}
        {{/items}}

        Approve, request changes or reject here:
        {{link}}
        {{#expires}}

        Without a decision, the request expires on {{expires}}.
        {{/expires}}
        """,
        .reminder: """
        Hello,

        Project {{project}} still waits for your {{type}} approval of its {{stage}} stage, requested on {{requested}}.

        {{summary}}

        Decide here:
        {{link}}
        {{#expires}}

        Without a decision, the request expires on {{expires}}.
        {{/expires}}
        """,
        .escalated: """
        Hello,

        Nobody has decided the {{type}} approval of the {{stage}} stage of project {{project}} since {{requested}}, so it
        was escalated to you. You may decide it on your own.

        {{summary}}

        Decide here:
        {{link}}
        """,
        .decided: "The {{type}} approval of the {{stage}} stage of project {{project}} was decided: {{state}}.\n",
        .expired: "The {{type}} approval of the {{stage}} stage of project {{project}} expired without a decision.\n",
    ]

    static let activities: [NotificationKind: String] = [
        .requested: "Waiting for approval: {{stage}} ({{type}}) — {{summary}}",
        .reminder: "Still waiting for approval: {{stage}} ({{type}})",
        .escalated: "Escalated to you: {{stage}} ({{type}})",
        .decided: "Approval of {{stage}} decided: {{state}}",
        .expired: "Approval of {{stage}} expired",
    ]

    /// Parsed once. The templates are constants of this file, so one that does not parse is a programming error.
    private static let parsed: [String: MustacheTemplate] = {
        var parsed: [String: MustacheTemplate] = [:]
        for (prefix, texts) in [("subject", subjects), ("body", bodies), ("activity", activities)] {
            for (kind, text) in texts {
                parsed["\(prefix).\(kind.rawValue)"] = try! MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text)
            }
        }
        return parsed
    }()

    private static let dates = Date.FormatStyle(date: .long, time: .shortened, timeZone: TimeZone(identifier: "UTC")!)

    static func subject(_ kind: NotificationKind, _ approval: Approval) -> String {
        render("subject", kind, approval, link: nil)
    }

    static func body(_ kind: NotificationKind, _ approval: Approval, link: String) -> String {
        render("body", kind, approval, link: link)
    }

    static func activity(_ kind: NotificationKind, _ approval: Approval) -> String {
        render("activity", kind, approval, link: nil)
    }

    private static func render(_ part: String, _ kind: NotificationKind, _ approval: Approval, link: String?) -> String {
        var context: [String: Any] = [
            "project": approval.projectID, "stage": approval.stage, "type": approval.approvalType.rawValue,
            "summary": approval.summary, "state": approval.state.rawValue.replacingOccurrences(of: "_", with: " "),
            "requested": approval.requestedAt.formatted(dates) + " UTC",
            "items": approval.items.map { ["title": $0.title] },
        ]
        if let link { context["link"] = link }
        if let expiresAt = approval.expiresAt { context["expires"] = expiresAt.formatted(dates) + " UTC" }
        return parsed["\(part).\(kind.rawValue)"]!.render(context)
    }
}
