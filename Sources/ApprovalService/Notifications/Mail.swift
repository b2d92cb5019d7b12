import Foundation

/// One plain-text email.
struct Mail: Sendable, Equatable {
    var from: String
    var to: String
    var subject: String
    var body: String
    /// Stable per notification, so a mail sent twice after a crash is recognisable as one.
    var messageID: String
    var date: Date

    /// The message as RFC 5322 text with CRLF line ends; the subject is encoded when it is not plain ASCII.
    var rfc5322: String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let headers = [
            "From: \(from)", "To: \(to)", "Subject: \(Self.encodedHeader(subject))", "Date: \(formatter.string(from: date))",
            "Message-ID: <\(messageID)>", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
        ]
        // No dot-stuffing here: libcurl does it on the SMTP upload, and a `.eml` file is not SMTP data.
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return (headers + [""] + lines).joined(separator: "\r\n") + "\r\n"
    }

    private static func encodedHeader(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 32 }
        return plain ? text : "=?UTF-8?B?\(Data(text.utf8).base64EncodedString())?="
    }
}

/// Delivers mail.
protocol Mailer: Sendable {
    func send(_ mail: Mail) async throws
}

/// With no SMTP server configured: each mail is written as a `.eml` file, so the default works offline.
struct MailFolder: Mailer {
    let directory: URL

    func send(_ mail: Mail) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let name = mail.messageID.replacingOccurrences(of: "@", with: "_").replacingOccurrences(of: "/", with: "_")
        try Data(mail.rfc5322.utf8).write(to: directory.appendingPathComponent("\(name).eml"), options: .atomic)
    }
}

/// What an email address must look like before it may reach a mail header: one `local@domain`, printable ASCII,
/// no spaces, quotes, angle brackets, commas or line breaks (so nothing can add a header or a recipient).
enum EmailAddress {
    static func isValid(_ text: String) -> Bool {
        guard text.utf8.count <= 254, let at = text.lastIndex(of: "@") else { return false }
        let local = text[..<at]
        let domain = text[text.index(after: at)...]
        let allowedLocal = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+-/=?^_`{|}~")
        let allowedDomain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
        return !local.isEmpty && local.count <= 64 && local.allSatisfy(allowedLocal.contains) && !local.hasPrefix(".")
            && !local.hasSuffix(".") && !local.contains("..") && domain.contains(".") && domain.allSatisfy(allowedDomain.contains)
            && !domain.hasPrefix(".") && !domain.hasSuffix(".") && !domain.hasPrefix("-") && !domain.contains("..")
    }
}
