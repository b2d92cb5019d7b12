import CCurl
import Foundation

/// Where mail goes: an SMTP server, its credentials and whether STARTTLS is required.
struct SMTPSettings: Sendable, Equatable {
    /// `smtp://host:port` (STARTTLS as configured) or `smtps://host:port` (TLS from the start).
    var url: String
    var username: String?
    var password: String?
    /// Refuse to send unless the server upgrades the connection with STARTTLS.
    var requireStartTLS: Bool
    var timeoutSeconds: Int = 30
}

/// Sends mail over SMTP with libcurl, on a thread of its own: curl's easy interface blocks.
struct SMTPMailer: Mailer {
    let settings: SMTPSettings

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    func send(_ mail: Mail) async throws {
        _ = Self.globalInit
        let settings = self.settings
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                do {
                    try Self.deliver(mail, settings: settings)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// The message bytes and how far curl has read them.
    private final class Upload {
        let bytes: [UInt8]
        var offset = 0
        init(_ text: String) { bytes = Array(text.utf8) }
    }

    private static func deliver(_ mail: Mail, settings: SMTPSettings) throws {
        guard let handle = curl_easy_init() else { throw SMTPError(message: "curl could not start") }
        defer { curl_easy_cleanup(handle) }
        var recipients: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(recipients) }
        recipients = curl_slist_append(recipients, "<\(Self.address(mail.to))>")
        let upload = Upload(mail.rfc5322)
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code = withExtendedLifetime(upload) {
            errorBuffer.withUnsafeMutableBufferPointer { errors -> CURLcode in
                ccurl_setopt_string(handle, CURLOPT_URL, settings.url)
                ccurl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(Self.address(mail.from))>")
                ccurl_setopt_pointer(handle, CURLOPT_MAIL_RCPT, recipients)
                ccurl_setopt_long(handle, CURLOPT_UPLOAD, 1)
                ccurl_setopt_long(handle, CURLOPT_TIMEOUT, settings.timeoutSeconds)
                ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, 10)
                ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
                ccurl_setopt_long(
                    handle, CURLOPT_USE_SSL, settings.requireStartTLS ? Int(CURLUSESSL_ALL.rawValue) : Int(CURLUSESSL_TRY.rawValue))
                if let username = settings.username { ccurl_setopt_string(handle, CURLOPT_USERNAME, username) }
                if let password = settings.password { ccurl_setopt_string(handle, CURLOPT_PASSWORD, password) }
                ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errors.baseAddress)
                ccurl_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(upload).toOpaque())
                ccurl_setopt_read_function(handle) { buffer, size, count, context in
                    guard let buffer, let context else { return 0 }
                    let upload = Unmanaged<Upload>.fromOpaque(context).takeUnretainedValue()
                    let length = min(size * count, upload.bytes.count - upload.offset)
                    upload.bytes.withUnsafeBytes { bytes in
                        UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + upload.offset, byteCount: length)
                    }
                    upload.offset += length
                    return length
                }
                return curl_easy_perform(handle)
            }
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw SMTPError(message: "\(String(cString: curl_easy_strerror(code)))\(detail.isEmpty ? "" : ": \(detail)") (\(settings.url))")
        }
    }

    /// `Name <a@b>` → `a@b`.
    static func address(_ text: String) -> String {
        guard let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close else {
            return text.trimmingCharacters(in: .whitespaces)
        }
        return String(text[text.index(after: open)..<close])
    }
}

struct SMTPError: Error, CustomStringConvertible {
    let message: String
    var description: String { "SMTP: \(message)" }
}
