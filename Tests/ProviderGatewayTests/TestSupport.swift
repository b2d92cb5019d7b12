import FakeProvider
import Logging

@testable import ProviderGateway

let quiet: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}()

/// A configuration with the fake server as `openai` and `anthropic`, and the local provider as `openai`'s fallback.
func configuration(
    _ fake: FakeProvider, retry: String = "{max_attempts: 3, initial_backoff_ms: 10, max_backoff_ms: 50}", fallbacks: [String] = ["local"]
) throws
    -> ProvidersConfiguration
{
    try ProvidersConfiguration.parse(
        yaml: """
            default_provider: openai
            providers:
              openai:
                kind: openai
                base_url: \(fake.baseURL)/v1
                api_key_env: TEST_OPENAI_KEY
                models: {gpt-test: {input_per_million: 1.0, output_per_million: 2.0}}
                retry: \(retry)
                fallbacks: [\(fallbacks.joined(separator: ", "))]
              anthropic:
                kind: anthropic
                base_url: \(fake.baseURL)
                api_key_env: TEST_ANTHROPIC_KEY
                models: {claude-test: {input_per_million: 3.0, output_per_million: 15.0}}
                retry: \(retry)
              local:
                kind: local
                models: {local-writer: {input_per_million: 0, output_per_million: 0}}
            """,
        environment: ["TEST_OPENAI_KEY": "sk-test-123", "TEST_ANTHROPIC_KEY": "ant-test-456"]
    )
}
