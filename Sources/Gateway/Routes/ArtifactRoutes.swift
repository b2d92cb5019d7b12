import Contracts
import Foundation
import HTTPTypes
import Hummingbird

/// An artifact's description and its bytes, read from StageService a megabyte at a time: with its media type,
/// length and `ETag` (its SHA-256), `If-None-Match` and single byte ranges.
struct ArtifactRoutes {
    let backend: Backend

    func add(to group: RouterGroup<APIContext>) {
        group.get("projects/:id/artifacts/:artifact") { _, context in
            let read = ReadArtifact(
                projectID: try context.parameters.require("id"), artifactID: try context.parameters.require("artifact"), length: 0)
            return JSONResponse(try await backend.ask(read, as: try context.caller()).artifact)
        }
        group.get("projects/:id/artifacts/:artifact/content") { request, context in try await content(request, context) }
    }

    private func content(_ request: Request, _ context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let projectID = try context.parameters.require("id")
        let artifactID = try context.parameters.require("artifact")
        // The description first: a 304, a range or a 416 needs none of the bytes read ahead.
        let artifact = try await backend.ask(ReadArtifact(projectID: projectID, artifactID: artifactID, length: 0), as: caller).artifact
        let etag = "\"\(artifact.sha256)\""
        var headers: HTTPFields = [
            .contentType: artifact.mediaType, .eTag: etag, .acceptRanges: "bytes", .cacheControl: "private, no-cache",
            .contentDisposition: "inline; filename=\"\(artifact.name.replacingOccurrences(of: "\"", with: ""))\"",
        ]
        if PublishedRoutes.matches(request.headers[.ifNoneMatch], etag) {
            return Response(status: .notModified, headers: headers)
        }
        var range = 0..<artifact.size
        var status = HTTPResponse.Status.ok
        if let header = request.headers[.range] {
            guard let asked = Self.range(header, size: artifact.size) else {
                var error = APIError(
                    .rangeNotSatisfiable, "range-not-satisfiable", "the artifact has \(artifact.size) bytes; ask for one range within them")
                error.contentRange = "bytes */\(artifact.size)"
                throw error
            }
            range = asked
            status = .partialContent
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(artifact.size)"
        }
        headers[.contentLength] = String(range.count)
        let backend = self.backend
        let bytes = range
        let body = ResponseBody { writer in
            var offset = bytes.lowerBound
            while offset < bytes.upperBound {
                let length = min(ReadArtifact.maximumLength, bytes.upperBound - offset)
                let read = try await backend.ask(
                    ReadArtifact(projectID: projectID, artifactID: artifactID, offset: offset, length: length), as: caller)
                guard !read.data.isEmpty else { break }
                try await writer.write(ByteBuffer(bytes: read.data))
                offset += read.data.count
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// One byte range of `bytes=a-b`, `bytes=a-` or `bytes=-n`, within `size`; nil when it cannot be served.
    static func range(_ header: String, size: Int) -> Range<Int>? {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard spec.count == 2 else { return nil }
        let (from, to) = (String(spec[0]).trimmingCharacters(in: .whitespaces), String(spec[1]).trimmingCharacters(in: .whitespaces))
        if from.isEmpty {
            guard let suffix = Int(to), suffix > 0, size > 0 else { return nil }
            return max(0, size - suffix)..<size
        }
        guard let start = Int(from), start >= 0, start < size else { return nil }
        guard !to.isEmpty else { return start..<size }
        guard let end = Int(to), end >= start else { return nil }
        return start..<(min(end, size - 1) + 1)
    }
}
