import Foundation

/// The fields of an `application/x-www-form-urlencoded` body, each with every value it was sent with.
struct FormFields: Sendable, Equatable {
    private(set) var values: [String: [String]] = [:]

    init() {}

    init(_ body: String) {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            guard let key = parts.first, !key.isEmpty else { continue }
            values[key, default: []].append(parts.count > 1 ? parts[1] : "")
        }
    }

    /// The first value of `name`, if it was sent.
    subscript(_ name: String) -> String? { values[name]?.first }

    /// Every value of `name` (a group of checkboxes), none when it was not sent.
    func all(_ name: String) -> [String] { values[name] ?? [] }

    /// The first value of `name` with the spaces around it removed; nil when it is missing or blank.
    func text(_ name: String) -> String? {
        guard let value = self[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }
}
