import Contracts
import Deliverables
import Foundation

/// What changed between two versions of a text, line by line (a longest common subsequence), as HTML with the
/// removed lines in `<del>` and the added ones in `<ins>`. JSON is compared as its indented form, keys sorted, so a
/// change shows on the line of the field that changed.
enum LineDiff {
    /// Lines beyond which the versions are not compared (the table is lines × lines).
    static let limit = 1_500

    enum Line: Equatable {
        case same(String)
        case removed(String)
        case added(String)
    }

    static func lines(_ old: String, _ new: String) -> [Line]? {
        let (a, b) = (comparable(old), comparable(new))
        guard a.count <= limit, b.count <= limit else { return nil }
        // lengths[i][j]: the longest common subsequence of a[i...] and b[j...].
        var lengths = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lengths[i][j] = a[i] == b[j] ? lengths[i + 1][j + 1] + 1 : max(lengths[i + 1][j], lengths[i][j + 1])
            }
        }
        var result: [Line] = []
        var (i, j) = (0, 0)
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                result.append(.same(a[i]))
                (i, j) = (i + 1, j + 1)
            } else if j < b.count, i == a.count || lengths[i][j + 1] >= lengths[i + 1][j] {
                result.append(.added(b[j]))
                j += 1
            } else {
                result.append(.removed(a[i]))
                i += 1
            }
        }
        return result
    }

    /// The changes with two unchanged lines around each, as a `<pre>`; nil when nothing changed or it is too long.
    static func html(_ old: String, _ new: String) -> String? {
        guard let lines = lines(old, new), lines.contains(where: { if case .same = $0 { false } else { true } }) else { return nil }
        var near = Array(repeating: false, count: lines.count)
        for index in lines.indices {
            if case .same = lines[index] { continue }
            for around in max(0, index - 2)...min(lines.count - 1, index + 2) { near[around] = true }
        }
        var shown = ""
        var last = -1
        for index in lines.indices where near[index] {
            if last >= 0, index > last + 1 { shown += "<span class=\"gap\">…</span>\n" }
            switch lines[index] {
            case .same(let text): shown += HTML.escape(text) + "\n"
            case .removed(let text): shown += "<del>\(HTML.escape(text))</del>\n"
            case .added(let text): shown += "<ins>\(HTML.escape(text))</ins>\n"
            }
            last = index
        }
        return "<pre class=\"diff\">\(shown)</pre>"
    }

    private static func comparable(_ text: String) -> [String] {
        let shown = (try? JSONValue.parse(Data(text.utf8)))?.jsonString(pretty: true) ?? text
        return shown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
}
