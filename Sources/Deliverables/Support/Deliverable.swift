import Contracts
import Foundation

/// One file a deliverable consists of: its path inside the deliverable, its media type and its bytes.
public struct DeliverableFile: Sendable, Equatable {
    public let path: String
    public let mediaType: String
    public let data: Data

    public init(path: String, mediaType: String, data: Data) {
        self.path = path
        self.mediaType = mediaType
        self.data = data
    }

    public init(path: String, mediaType: String, text: String) {
        self.init(path: path, mediaType: mediaType, data: Data(text.utf8))
    }

    /// Writes `files` under `folder` at their paths, making the subfolders they need.
    public static func write(_ files: [DeliverableFile], to folder: URL) throws {
        for file in files {
            let url = folder.appendingPathComponent(file.path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try file.data.write(to: url)
        }
    }
}

/// Why a deliverable could not be built, said so the person who can fix it knows what to change.
public struct DeliverableError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension JSONValue {
    /// This value decoded as `T`; a mismatch says which stage output (`what`) is wrong and where.
    public func decode<T: Decodable>(_ type: T.Type, as what: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(jsonString().utf8))
        } catch let DecodingError.keyNotFound(key, context) {
            throw DeliverableError("\(what): '\(Self.path(context.codingPath + [key]))' is missing")
        } catch let DecodingError.typeMismatch(_, context) {
            throw DeliverableError("\(what): '\(Self.path(context.codingPath))' has the wrong type")
        } catch let DecodingError.valueNotFound(_, context) {
            throw DeliverableError("\(what): '\(Self.path(context.codingPath))' is empty")
        } catch {
            throw DeliverableError("\(what) cannot be read: \(error)")
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined().trimmingCharacters(in: ["."])
    }
}

/// The media types of the files the builders write.
public enum MediaType {
    public static let html = "text/html; charset=utf-8"
    public static let css = "text/css; charset=utf-8"
    public static let xml = "application/xml"
    public static let text = "text/plain; charset=utf-8"
    public static let markdown = "text/markdown; charset=utf-8"
    public static let json = "application/json"
    public static let csv = "text/csv; charset=utf-8"
    public static let zip = "application/zip"
    public static let epub = "application/epub+zip"
    public static let pdf = "application/pdf"
    public static let mp4 = "video/mp4"
    public static let srt = "application/x-subrip"
    public static let vtt = "text/vtt; charset=utf-8"
    public static let javascript = "text/javascript; charset=utf-8"

    /// The type of a file by its extension, for serving a published folder.
    public static func forPath(_ path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "html", "htm": html
        case "css": css
        case "xml": xml
        case "txt": text
        case "json": json
        case "js": javascript
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "webp": "image/webp"
        case "ico": "image/x-icon"
        default: "application/octet-stream"
        }
    }
}
