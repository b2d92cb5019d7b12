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
