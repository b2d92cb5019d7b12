import ArgumentParser
import Crypto
import Foundation
import ServiceKit

/// ApprovalService's own settings: flag > environment variable > default, each checked at start-up.
struct ApprovalOptions: ParsableArguments, Sendable {
    @Option(
        name: .customLong("portal-url"),
        help: "Base URL of the portal that links point to (AIWF_PORTAL_URL; default http://127.0.0.1:8080).")
    var portalURL: String?

    @Option(
        name: .customLong("smtp-url"),
        help:
            "SMTP server, smtp://host:port or smtps://host:port (AIWF_SMTP_URL); without one, mail is written as .eml files in the data folder."
    )
    var smtpURL: String?

    @Option(name: .customLong("smtp-user"), help: "SMTP user name (AIWF_SMTP_USER).")
    var smtpUser: String?

    @Option(name: .customLong("smtp-password-file"), help: "File holding the SMTP password (or AIWF_SMTP_PASSWORD).")
    var smtpPasswordFile: String?

    @Option(name: .customLong("smtp-starttls"), help: "required or optional (AIWF_SMTP_STARTTLS; default required).")
    var smtpStartTLS: String?

    @Option(name: .customLong("mail-from"), help: "Sender of notification mail (AIWF_MAIL_FROM; default aiwf <aiwf@localhost>).")
    var mailFrom: String?

    @Option(
        name: .customLong("webhook-url"),
        help: "A URL that receives every approval event, signed (repeatable; AIWF_WEBHOOK_URLS, comma-separated).")
    var webhookURLs: [String] = []

    @Option(name: .customLong("webhook-secret-file"), help: "File holding the webhook signing secret (or AIWF_WEBHOOK_SECRET).")
    var webhookSecretFile: String?

    func resolve(dataDirectory: URL, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ApprovalSettings {
        func value(_ flag: String?, _ variable: String) -> String? { ServiceOptions.pick(flag, variable, in: environment) }
        func secret(file: String?, variable: String, what: String) throws -> String? {
            try ServiceOptions.secret(file: file, variable: variable, what: what, in: environment)
        }
        let portal = value(portalURL, "AIWF_PORTAL_URL") ?? "http://127.0.0.1:8080"
        guard let portalParts = URL(string: portal), ["http", "https"].contains(portalParts.scheme ?? "") else {
            throw ConfigurationError("--portal-url / AIWF_PORTAL_URL must be an http(s) URL, got '\(portal)'")
        }
        var smtp: SMTPSettings?
        if let url = value(smtpURL, "AIWF_SMTP_URL") {
            guard let parts = URL(string: url), ["smtp", "smtps"].contains(parts.scheme ?? ""), parts.host != nil else {
                throw ConfigurationError("--smtp-url / AIWF_SMTP_URL must look like smtp://host:587 or smtps://host:465, got '\(url)'")
            }
            let mode = value(smtpStartTLS, "AIWF_SMTP_STARTTLS") ?? "required"
            guard ["required", "optional"].contains(mode) else {
                throw ConfigurationError("--smtp-starttls / AIWF_SMTP_STARTTLS is required or optional, got '\(mode)'")
            }
            smtp = SMTPSettings(
                url: url, username: value(smtpUser, "AIWF_SMTP_USER"),
                password: try secret(file: smtpPasswordFile, variable: "AIWF_SMTP_PASSWORD", what: "--smtp-password-file"),
                requireStartTLS: mode == "required")
        }
        let webhooks = ServiceOptions.pickList(webhookURLs, "AIWF_WEBHOOK_URLS", in: environment)
        for url in webhooks where !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw ConfigurationError("webhook URL '\(url)' must start with http:// or https://")
        }
        let webhookSecret = try secret(file: webhookSecretFile, variable: "AIWF_WEBHOOK_SECRET", what: "--webhook-secret-file")
        if !webhooks.isEmpty, (webhookSecret ?? "").count < 16 {
            throw ConfigurationError(
                "webhooks need a signing secret of at least 16 characters: --webhook-secret-file or AIWF_WEBHOOK_SECRET")
        }
        let from = value(mailFrom, "AIWF_MAIL_FROM") ?? "aiwf <aiwf@localhost>"
        guard !from.contains("\r"), !from.contains("\n") else {
            throw ConfigurationError("--mail-from / AIWF_MAIL_FROM: a sender is one line, such as 'aiwf <aiwf@example.com>'")
        }
        return ApprovalSettings(
            portalURL: portal.hasSuffix("/") ? String(portal.dropLast()) : portal, smtp: smtp,
            mailFrom: from,
            mailFolder: dataDirectory.appendingPathComponent("mail"), webhooks: webhooks,
            webhookSecret: SymmetricKey(data: Data((webhookSecret ?? "").utf8)),
            reviewLinkKeyFile: dataDirectory.appendingPathComponent("review-link.key"))
    }
}

/// Checked settings.
struct ApprovalSettings: Sendable {
    var portalURL: String
    var smtp: SMTPSettings?
    var mailFrom: String
    /// Where mail goes as `.eml` files when no SMTP server is configured.
    var mailFolder: URL
    var webhooks: [String]
    var webhookSecret: SymmetricKey
    var reviewLinkKeyFile: URL
}
