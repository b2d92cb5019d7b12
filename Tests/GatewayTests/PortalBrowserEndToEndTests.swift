import Foundation
import ServiceTestSupport
import Testing

/// The portal in a real browser: headless Chromium driven by Selenium through a new user's whole journey (see
/// `Scripts/portal_journey.py`: a website to its published site, a survey from its wizard through a review link in
/// an e-mail to an answer in its owner's summary) against the five services as separate processes. Screenshots of every page, at
/// desktop and phone width, are left in `.build/portal-screenshots` for a person to look at.
@Suite("Portal in a browser, end to end", .serialized, .timeLimit(.minutes(6)))
struct PortalBrowserEndToEndTests {
    static let screenshots = repository.appendingPathComponent(".build/portal-screenshots")

    @Test func aNewUserGoesFromTheWizardsThroughEveryApprovalToAPublishedSiteAndAnAnsweredSurvey() async throws {
        let system = try await TestSystem(repository: repository)
        defer { system.stop() }
        let problems = try await system.startEngine()
        #expect(problems.isEmpty, "\(problems)")
        let (base, _, _) = try await system.startGateway()
        try? FileManager.default.removeItem(at: Self.screenshots)
        let result = try await runProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", repository.appendingPathComponent("Tests/GatewayTests/Scripts/portal_journey.py").path, base,
                "admin@example.com", "a long admin password", Self.screenshots.path,
                system.folder.appendingPathComponent("ApprovalService/mail").path,
            ])
        let text = result.output + result.errors
        #expect(result.status == 0, "\(text.suffix(4000))")
        #expect(text.contains("journey:"), "\(text.suffix(2000))")
        #expect(!text.contains("FAIL"))
    }
}
