import ArgumentParser
import AsyncHTTPClient
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
