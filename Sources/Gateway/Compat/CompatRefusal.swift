import Contracts
import Foundation
import HTTPTypes
import Hummingbird

/// The API a compatible request imitates, which decides the shape of its refusals.
enum CompatDialect {
    case openAI, anthropic

    /// Anthropic's clients call `/v1/messages` and send `anthropic-version`; anything else speaks OpenAI's API.
    init(_ request: Request) {
        let anthropic = request.uri.path.hasSuffix("/messages") || request.headers[HTTPField.Name("anthropic-version")!] != nil
        self = anthropic ? .anthropic : .openAI
    }

    /// Runs a route, answering what it throws (a compatible failure, or a refusal of the Gateway itself) in this
    /// dialect's error shape.
    func answering(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let failure as CompatFailure {
            return response(failure)
        } catch let error as APIError {
            return response(CompatFailure(error))
        }
    }

    func response(_ failure: CompatFailure) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter = failure.retryAfter { headers[.retryAfter] = String(retryAfter) }
        let (status, body): (HTTPResponse.Status, JSONValue) =
            switch self {
            case .openAI: (failure.status, OpenAIErrors.body(failure))
            case .anthropic:
                (
                    failure.kind == .overloaded ? HTTPResponse.Status(code: 529) : failure.status,
                    ["type": "error", "error": AnthropicRoutes.error(failure)]
                )
            }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body.jsonString())))
    }
}
