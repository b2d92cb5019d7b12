import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore

/// Service processes a benchmark starts from the release binaries beside it, each on its own port and data folder,
/// watched for their peak resident memory, and stopped together.
final class BenchProcesses: @unchecked Sendable {
    private let folder: URL
    private let lock = NSLock()
    private var processes: [(instance: String, process: Process)] = []
    private var peaks: [String: Double] = [:]
    private(set) var ports: [String: Int] = [:]
    private var nextPort: Int

    init(folder: URL, firstPort: Int) {
        self.folder = folder
        self.nextPort = firstPort
    }

    /// Starts `service` as `instance` and waits until it answers `/ready`.
    func start(_ service: String, instance: String? = nil, arguments: [String] = [], environment: [String: String]) async throws {
        let instance = instance ?? service
        let port = nextPort
        nextPort += 1
        let process = Process()
        process.executableURL = siblingBinary(service)
        process.arguments =
            ["--http-port", "\(port)", "--data-dir", folder.appendingPathComponent(instance).path, "--log-level", "error"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        try process.run()
        lock.withLock {
            processes.append((instance, process))
            ports[instance] = port
        }
        guard try await waitUntilReady(port: port, timeout: .seconds(30)) else {
            throw ValidationError("\(instance) did not become ready; is RabbitMQ running and are the release binaries built?")
        }
    }

    /// An instance's resident memory now, in MB (NaN when it is not running).
    func residentMegabytes(_ instance: String) -> Double {
        let process = lock.withLock { processes.first { $0.instance == instance }?.process }
        return process.map { Benchmarks.residentMegabytes(of: $0.processIdentifier) } ?? .nan
    }

    /// Records each instance's resident memory, keeping its highest.
    func sample() {
        lock.withLock {
            for (instance, process) in processes {
                let megabytes = Benchmarks.residentMegabytes(of: process.processIdentifier)
                if !megabytes.isNaN { peaks[instance] = max(peaks[instance] ?? 0, megabytes) }
            }
        }
    }

    /// The highest resident memory seen of each instance, in start order.
    var peakMegabytes: [(instance: String, megabytes: Double)] {
        lock.withLock { processes.map { ($0.instance, peaks[$0.instance] ?? .nan) } }
    }

    func stop() {
        for (_, process) in lock.withLock({ processes }) where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

/// One HTTP call with a JSON body (POST) or none (GET); the answer's text, or an error naming the status.
func httpCall(_ url: String, authorization: String?, body: String?) async throws -> String {
    var request = HTTPClientRequest(url: url)
    if let body {
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
    }
    if let authorization { request.headers.add(name: "authorization", value: authorization) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let text = String(buffer: try await response.body.collect(upTo: 8 << 20))
    guard response.status.code < 300 else { throw ValidationError("\(url) answered \(response.status.code): \(text.prefix(300))") }
    return text
}
