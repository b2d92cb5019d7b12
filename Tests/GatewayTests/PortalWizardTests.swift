import Contracts
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import WorkflowKit

@testable import Gateway

/// The creation wizards and the project page through the router: questions from the template's `params_schema`,
/// checked again on the server with the errors beside their fields, a summary, one project per form however often
/// it is sent, and the page the person lands on.
struct PortalWizardTests {
    static let website: [String: String] = [
        "name": "Bakery site", "p.company_name": "Crumb & Co", "p.industry": "bakery", "p.website_type": "business",
        "p.page_count": "3", "p.target_audience": "people in the neighbourhood",
        "p.description": "A family bakery that wants its opening hours and its bread online.", "p.theme_style": "classic",
    ]

    @Test func theWizardAsksTheTemplatesQuestionsChecksThemAndCreatesOneProject() async throws {
        let bed = try await GatewayBed()
        defer { bed.stop() }
        try await bed.test { client in
            let cookie = try await client.signIn(GatewayBed.adminEmail, GatewayBed.adminPassword).cookie
            let picker = try await client.get("/portal/create", cookie: cookie)
            for code in ["website", "ebook", "course", "survey", "video"] {
                #expect(picker.body.contains(#"href="/portal/create/\#(code)""#), "\(code) is offered")
            }

            let form = try await client.get("/portal/create/website", cookie: cookie)
            #expect(form.status == .ok)
            let html = form.body
            #expect(html.contains(#"<label for="f-p-company_name">Company or project name"#), "a label per question")
            #expect(html.contains(#"name="p.company_name" type="text" value="" required minlength="1" maxlength="120""#))
            #expect(html.contains(#"type="range" step="1" min="1" max="10" value="5""#), "a bounded count is a slider, its default set")
            #expect(html.contains(#"<select id="f-p-website_type""#) && html.contains(#"<option value="landing_page">Landing page"#))
            #expect(html.contains(#"<textarea id="f-p-description""#), "a long answer gets a text area")
            #expect(html.contains(#"<option value="modern" selected>Modern</option>"#), "the template's default is chosen")
            let order = ["company_name", "industry", "website_type", "page_count", "target_audience", "description"].map {
                html.range(of: "f-p-\($0)\"")?.lowerBound
            }
            #expect(order.allSatisfy { $0 != nil } && order == order.sorted { $0! < $1! }, "the questions keep the YAML's order")
            #expect(html.contains("Step 1 of 3"), "at most four questions a step")
            let token = try #require(PortalTests.formToken(html))
            let once = try #require(Self.hidden("once", in: html))

            var wrong = Self.website
            (wrong["p.page_count"], wrong["p.description"], wrong["name"]) = ("42", "too short", "")
            let refused = try await client.post(
                "/portal/create/website", wrong.merging(["_csrf": token, "once": once, "action": "review"]) { $1 },
                cookie: cookie)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.body.contains(#"<p class="field-error" id="f-p-page_count-error">Must be at most 10.</p>"#), "\(refused.body)")
            #expect(refused.body.contains("Must have at least 20 characters."))
            #expect(refused.body.contains(#"id="f-name-error">Give the project a name."#))
            #expect(refused.body.contains(#"value="Crumb &amp; Co""#), "what was typed stays")
            #expect(
                refused.body.contains(##"<a href="#f-p-page_count">Number of pages: Must be at most 10.</a>"##), "a summary links to each")

            let review = try await client.post(
                "/portal/create/website", Self.website.merging(["_csrf": token, "once": once, "action": "review"]) { $1 },
                cookie: cookie)
            #expect(review.status == .ok)
            #expect(review.body.contains("<dt>Kind of website</dt><dd>Business</dd>"))
            #expect(review.body.contains("What it can cost"))
            let fields = Self.hiddenFields(review.body).merging(["_csrf": token, "action": "create"]) { $1 }
            #expect(fields["p.company_name"] == "Crumb & Co" && fields["once"] == once)

            let created = try await client.post("/portal/create/website", fields, cookie: cookie)
            #expect(created.status == .seeOther)
            let location = try #require(created.headers[.location])
            #expect(location.hasPrefix("/portal/projects/"))
            let again = try await client.post("/portal/create/website", fields, cookie: cookie)
            #expect(again.headers[.location] == location, "sending the same form twice makes one project")
            let projects = try await client.get("/portal", cookie: cookie)
            #expect(projects.body.components(separatedBy: "Bakery site").count == 2, "one card")

            let page = try await client.get(location, cookie: cookie)
            #expect(page.status == .ok)
            #expect(page.body.contains("<h1>Bakery site</h1>"))
            #expect(page.body.contains(#"<span class="step-name">Analyse the business</span>"#), "the timeline names the stages")
            #expect(page.body.contains("To come"))
            #expect(page.body.contains(#"data-project-live="/portal/projects/"#), "live over the portal's own event stream")
            #expect(page.body.contains(#"action="\#(location)/pause""#), "a started project can be paused")

            let paused = try await client.post("\(location)/pause", ["_csrf": token], cookie: cookie)
            #expect(paused.status == .seeOther && paused.headers[.location] == location)
            let now = try await client.get(location, cookie: cookie)
            #expect(now.body.contains(#"action="\#(location)/resume""#) && now.body.contains("Paused"))

            let events = try await client.get(String(location) + "/events?follow=false", cookie: cookie)
            #expect(events.headers[.contentType] == "text/event-stream" && events.body.contains("event: project.paused"))
        }
    }

    @Test func anotherPersonsProjectOrAnUnknownTemplateIsAPageNotAnError() async throws {
        let bed = try await GatewayBed()
        defer { bed.stop() }
        try await bed.test { client in
            let cookie = try await client.signInAsNewUser("bo@example.com")
            let missing = try await client.get("/portal/create/no-such-template", cookie: cookie)
            #expect(missing.status == .notFound && missing.body.contains("<h1>Not found</h1>"))
            let other = try await client.get("/portal/projects/not-a-project", cookie: cookie)
            #expect(other.status == .notFound)
        }
    }

    @Test func theEstimateCountsEveryAITaskAtItsLongestAnswer() throws {
        let yaml = try String(contentsOf: repository.appendingPathComponent("Workflows/website/workflow.yaml"), encoding: .utf8)
        let definition = try WorkflowLoader.load(directory: repository.appendingPathComponent("Workflows/website")).definition
        let prices = PriceList(
            defaultProvider: "local",
            providers: [
                ProviderPrices(
                    name: "local", defaultModel: "local-writer",
                    models: [ModelPrices(name: "local-writer", inputPerMillion: 1, outputPerMillion: 10, maxOutputTokens: 1_000)])
            ])
        let estimate = CostEstimate(definition: definition, params: ["page_count": .number(4)], prices: prices)
        let ai = definition.orderedStages.filter { $0.executionMode == .ai }
        #expect(estimate.lines.count == ai.count && estimate.unpriced.isEmpty)
        let pages = try #require(estimate.lines.first { line in ai.contains { $0.foreach != nil && $0.name == line.stage } })
        #expect(pages.tasks == 4, "one task per page, from page_count")
        #expect(estimate.total > Double(ai.count - 1 + 4) * 0.01, "each task at least its 1,000 answer tokens at $10 a million")
        #expect(estimate.total < Double(ai.count - 1 + 4) * 0.02)
        #expect(CostEstimate.items(of: "outputs.outline.lessons", params: ["module_count": .number(3)]) == 3)
        #expect(CostEstimate.items(of: "outputs.x.things", params: [:]) == 5)
        #expect(CostEstimate.items(of: "outputs.plan.sections", params: ["sections": .number(2), "page_count": .number(9)]) == 2)
        #expect(ParameterField.fields(of: definition, source: yaml).first?.name == "company_name")
    }

    /// The value of the hidden input `name`.
    static func hidden(_ name: String, in html: String) -> String? {
        hiddenFields(html)[name]
    }

    /// Every hidden input of the page, unescaped, as a form would send it.
    static func hiddenFields(_ html: String) -> [String: String] {
        var fields: [String: String] = [:]
        let pattern = #"<input type="hidden" name="([^"]+)" value="([^"]*)">"#
        let expression = try! NSRegularExpression(pattern: pattern)
        for match in expression.matches(in: html, range: NSRange(html.startIndex..., in: html)) {
            guard let name = Range(match.range(at: 1), in: html), let value = Range(match.range(at: 2), in: html) else { continue }
            fields[String(html[name])] = String(html[value]).replacingOccurrences(of: "&amp;", with: "&")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
                .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&#39;", with: "'")
        }
        return fields
    }
}
