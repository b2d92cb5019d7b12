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

/// A minimal HTTP/1.1 GET over a blocking loopback socket: enough for a readiness probe.
func httpStatus(port: Int, path: String) -> Int? {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { return nil }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return nil }
    let request = "GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    _ = request.withCString { send(socket, $0, strlen($0), 0) }
    var buffer = [UInt8](repeating: 0, count: 64)
    let count = recv(socket, &buffer, buffer.count, 0)
    guard count > 12 else { return nil }
    return Int(String(decoding: buffer[9..<12], as: UTF8.self))
}

/// Polls a service's `/ready` until it answers 200; whether it did within `timeout`.
func waitUntilReady(port: Int, timeout: Duration) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if httpStatus(port: port, path: "/ready") == 200 { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return false
}
