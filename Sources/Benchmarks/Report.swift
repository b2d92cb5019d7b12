import Foundation

/// Rows of figures printed as an aligned table and, on request, as one JSON object.
struct Report {
    private var rows: [(String, String)] = []
    private var figures: [String: Double] = [:]

    /// Adds a figure under a JSON key, shown in the table as `label` with `unit`.
    mutating func add(_ key: String, _ label: String, _ value: Double, unit: String, decimals: Int = 0) {
        figures[key] = (value * pow(10, Double(decimals))).rounded() / pow(10, Double(decimals))
        rows.append((label, String(format: "%.\(decimals)f %@", value, unit)))
    }

    func print(json: Bool) {
        let width = rows.map(\.0.count).max() ?? 0
        for (label, value) in rows {
            Swift.print(label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
        }
        if json, let data = try? JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys]) {
            Swift.print(String(decoding: data, as: UTF8.self))
        }
    }
}

/// Percentiles of a sample, by nearest rank.
struct Percentiles {
    private let sorted: [Double]

    init(_ values: [Double]) {
        sorted = values.sorted()
    }

    func value(at percentile: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((percentile / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}

/// Nanoseconds on the monotonic clock, comparable across tasks and threads of this process.
func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// The resident memory of a process, from /proc, in megabytes.
func residentMegabytes(of pid: Int32) -> Double {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return .nan }
    return kilobytes / 1024
}
