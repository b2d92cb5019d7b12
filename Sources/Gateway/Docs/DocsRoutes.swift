import Deliverables
import Foundation
import Hummingbird
import Yams

/// `/api/v1/openapi.yaml` (the document) and `/api/docs` (the same, as a page to read), neither needing a key.
struct DocsRoutes {
    func add(to router: Router<APIContext>) {
        let yaml = OpenAPIDocument.yaml
        let page = (try? Self.page(yaml)) ?? "<p>The API document could not be rendered; read /api/v1/openapi.yaml.</p>"
        router.get("api/v1/openapi.yaml") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: yaml)))
        }
        router.get("api/docs") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page)))
        }
    }

    /// Every operation with its summary, parameters and answers, on one page.
    static func page(_ yaml: String) throws -> String {
        guard let document = try Yams.load(yaml: yaml) as? [String: Any], let paths = document["paths"] as? [String: Any] else {
            return ""
        }
        let info = document["info"] as? [String: Any]
        var html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>aiwf API</title><style>
            body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}
            code{background:#f2f2f2;padding:0 .25rem;border-radius:3px}.op{border-top:1px solid #ddd;padding:.75rem 0}
            .method{display:inline-block;min-width:4.5rem;font-weight:700}
            </style></head><body><h1>aiwf API</h1>
            <p>\(escape((info?["description"] as? String) ?? ""))</p><p>The document: <a href="/api/v1/openapi.yaml">openapi.yaml</a></p>
            """
        for path in paths.keys.sorted() {
            guard let operations = paths[path] as? [String: Any] else { continue }
            for method in ["get", "post", "put", "patch", "delete"] {
                guard let operation = operations[method] as? [String: Any] else { continue }
                let parameters = (operation["parameters"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                let answers = (operation["responses"] as? [String: Any])?.keys.sorted().joined(separator: ", ") ?? ""
                html += """
                    <div class="op" id="\(escape((operation["operationId"] as? String) ?? ""))"><span class="method">\(method.uppercased())</span>\
                    <code>\(escape(path))</code><br>\(escape((operation["summary"] as? String) ?? ""))\
                    \(parameters.isEmpty ? "" : "<br>Parameters: " + parameters.map { "<code>\(escape($0))</code>" }.joined(separator: " "))\
                    <br>Answers: \(escape(answers))</div>
                    """
            }
        }
        return html + "</body></html>"
    }

    static func escape(_ text: String) -> String { HTML.escape(text, quotes: true) }
}
