import ArgumentParser
import AsyncHTTPClient
import Contracts
import Crypto
import Foundation
import ServiceKit
import SignedHTTP

/// StageService's own flags, each falling back to an environment variable.
struct StageOptions: ParsableArguments {
    @Option(
        name: .customLong("http-post-allow"),
        help: "A URL prefix the http.post action may call (repeatable; AIWF_HTTP_POST_ALLOW, comma-separated). None by default.")
    var httpPostAllow: [String] = []

    @Option(name: .customLong("http-post-secret-file"), help: "File holding the signing secret for http.post (or AIWF_HTTP_POST_SECRET).")
    var httpPostSecretFile: String?

    @Option(
        name: .customLong("cli-allow"),
        help: "An executable (absolute path) cli_loop stages may run (repeatable; AIWF_CLI_ALLOW, comma-separated). None by default.")
    var cliAllow: [String] = []

    @Option(
        name: .customLong("cli-sandbox"),
        help: "How cli_loop commands are confined: auto (bubblewrap when installed), bwrap or none (or AIWF_CLI_SANDBOX).")
    var cliSandbox: String?

    @Option(
        name: .customLong("public-url"),
        help:
            "The Gateway's address as users reach it, for published sites' links and canonical URLs (or AIWF_PUBLIC_URL; default http://localhost:8080)."
    )
    var publicURLOption: String?

    @Option(
        name: .customLong("shard"),
        help: "Which of the --stage-shards shards this process is, from 0 (or AIWF_STAGE_SHARD; default 0).")
    var shardOption: Int?

    /// This process's shard of `shards`.
    func shard(of shards: StageShards, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int {
        let text = shardOption.map(String.init) ?? ServiceOptions.pick(nil, "AIWF_STAGE_SHARD", in: environment) ?? "0"
        guard let shard = Int(text), shards.all.contains(shard) else {
            throw ConfigurationError(
                "--shard / AIWF_STAGE_SHARD: '\(text)' is not a shard of \(shards.count) (a whole number from 0 to \(shards.count - 1))")
        }
        return shard
    }

    func publicURL(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let value = ServiceOptions.pick(publicURLOption, "AIWF_PUBLIC_URL", in: environment) ?? "http://localhost:8080"
        guard let url = URL(string: value), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ConfigurationError("--public-url / AIWF_PUBLIC_URL: '\(value)' is not an http(s) URL")
        }
        return value.hasSuffix("/") ? String(value.dropLast()) : value
    }

    /// The `cli_loop` runner as configured: runs nothing unless executables are allowed.
    func cliLoop(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> CLILoopAction {
        let allowed = ServiceOptions.pickList(cliAllow, "AIWF_CLI_ALLOW", in: environment)
        for path in allowed where !path.hasPrefix("/") || !FileManager.default.isExecutableFile(atPath: path) {
            throw ConfigurationError("--cli-allow / AIWF_CLI_ALLOW: '\(path)' is not the absolute path of an executable file")
        }
        let name = ServiceOptions.pick(cliSandbox, "AIWF_CLI_SANDBOX", in: environment) ?? "auto"
        guard let sandbox = CLILoopAction.Sandbox(rawValue: name) else {
            throw ConfigurationError("--cli-sandbox / AIWF_CLI_SANDBOX: '\(name)' is not one of auto, bwrap, none")
        }
        _ = try sandbox.resolve()
        return CLILoopAction(allowed: allowed, sandbox: sandbox)
    }

    /// The `http.post` action as configured: calls nothing unless prefixes are allowed and a secret is set.
    func httpPost(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> HTTPPostAction {
        let allowed = ServiceOptions.pickList(httpPostAllow, "AIWF_HTTP_POST_ALLOW", in: environment)
        guard !allowed.isEmpty else { return HTTPPostAction(poster: nil, allowed: []) }
        for prefix in allowed {
            guard let url = URL(string: prefix), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw ConfigurationError("--http-post-allow / AIWF_HTTP_POST_ALLOW: '\(prefix)' is not an http(s) URL prefix")
            }
        }
        let secret = try ServiceOptions.secret(
            file: httpPostSecretFile, variable: "AIWF_HTTP_POST_SECRET", what: "--http-post-secret-file", in: environment)
        guard let secret, secret.count >= 16 else {
            throw ConfigurationError(
                "http.post needs a signing secret of at least 16 characters: --http-post-secret-file or AIWF_HTTP_POST_SECRET")
        }
        return HTTPPostAction(poster: SignedPoster(client: .shared, secret: SymmetricKey(data: Data(secret.utf8))), allowed: allowed)
    }
}
