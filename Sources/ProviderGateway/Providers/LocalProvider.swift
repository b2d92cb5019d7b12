import Contracts
import Foundation
import OfflineDrafts
import WorkflowKit

/// The offline provider: answers from the prompt with a first draft (`DraftWriter`), and when a JSON schema is
/// requested with a valid instance of it, so every workflow runs end to end without a network.
struct LocalProvider: ProviderClient {
    func complete(_ request: CompletionRequest, onText: TextSink?) async throws(ProviderFailure) -> Completion {
        var writer = DraftWriter(prompt: request.user)
        let content = request.responseSchema.map { writer.instance(of: $0, name: "answer").jsonString() } ?? writer.prose()
        if let onText {
            for piece in Self.pieces(of: content) { await onText(piece) }
        }
        return Completion(
            content: content,
            tokensIn: Self.estimateTokens((request.system ?? "") + request.user),
            tokensOut: Self.estimateTokens(content)
        )
    }

    /// The answer cut after every few words, as a provider streams it.
    static func pieces(of content: String, wordsPerPiece: Int = 4) -> [String] {
        var pieces: [String] = []
        var current = ""
        var words = 0
        for character in content {
            current.append(character)
            if character == " " || character == "\n" {
                words += 1
                if words == wordsPerPiece {
                    pieces.append(current)
                    (current, words) = ("", 0)
                }
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    /// About four characters a token, as the providers' tokenizers average on English text.
    static func estimateTokens(_ text: String) -> Int {
        max(1, text.utf8.count / 4)
    }
}
