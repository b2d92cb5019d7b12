import Contracts
import Foundation
import Hummingbird
import Messaging

/// The parts of the Gateway, built once by `main` and by the tests.
struct GatewayApp: Sendable {
    let accounts: Accounts
    let backend: Backend
    let live: LiveEvents
    let limiter: RateLimiter
    /// The pages served at `/docs`.
    let docs: DocsLibrary
    /// The portal's templates and assets.
    let views: PortalViews
    /// Survey answers per client and survey: people answer a form a few times a minute at most.
    let submissions = RateLimiter(perMinute: 20, burst: 5)

    init(
        accounts: Accounts, bus: any MessageBus, requestTimeout: Duration = .seconds(10), requestsPerMinute: Int = 600,
        live: LiveEvents = LiveEvents(), docs: DocsLibrary = DocsLibrary(pages: []), stageShards: StageShards = StageShards(count: 1)
    ) throws {
        self.views = try PortalViews.load()
        self.accounts = accounts
        self.docs = docs
        self.backend = Backend(bus: bus, timeout: requestTimeout, shards: stageShards)
        self.live = live
        self.limiter = RateLimiter(perMinute: requestsPerMinute)
    }

    /// Every route: the API under `/api/v1`, each refusal in the API's error format.
    func router() -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: APIErrorMiddleware())
        DocsRoutes().add(to: router)
        DocsPages(library: docs).add(to: router)
        let api = router.group("api/v1").add(middleware: Authenticator(accounts: accounts, limiter: limiter))
        AccountRoutes(accounts: accounts).add(to: api)
        TemplateRoutes(backend: backend).add(to: api)
        ProjectRoutes(backend: backend, accounts: accounts).add(to: api)
        EventStreamRoute(backend: backend, live: live).add(to: api)
        ApprovalRoutes(backend: backend).add(to: api)
        ArtifactRoutes(backend: backend).add(to: api)
        AdminRoutes(backend: backend).add(to: api)
        SurveyResultRoutes(backend: backend).add(to: api)
        PublishedRoutes(backend: backend, submissions: submissions).add(to: router)
        addPortal(to: router)
        // The OpenAI- and Anthropic-compatible endpoints: a wrong key is answered in their error shapes.
        let compat = router.group("v1").add(middleware: CompatAuthenticator(accounts: accounts, limiter: limiter))
        let interactive = Interactive(backend: backend, live: live, accounts: accounts)
        let openAI = OpenAIRoutes(interactive: interactive)
        let anthropic = AnthropicRoutes(interactive: interactive)
        openAI.add(to: compat)
        anthropic.add(to: compat)
        CompatModelsRoute(openAI: openAI, anthropic: anthropic).add(to: compat)
        return router
    }
}

extension GatewayApp {
    /// The portal under `/portal`: signed in with a session cookie, every form checked for its token, every refusal
    /// shown as a page.
    func addPortal(to router: Router<APIContext>) {
        let views = self.views
        router.get("/") { _, _ in PortalViews.redirect("/portal") }
        router.get("portal/assets/:name") { _, context in
            let name = try context.parameters.require("name")
            guard let asset = views.assets[name] else { throw APIError.notFound("no asset \(name)") }
            let type = name.hasSuffix(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8"
            return Response(
                status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=300"], body: ResponseBody(byteBuffer: asset))
        }
        let portal = router.group("portal").add(middleware: PortalErrorMiddleware(views: views))
            .add(middleware: PortalSessionMiddleware(accounts: accounts))
        SignInPages(views: views, accounts: accounts).add(to: portal)
        DashboardPages(views: views, backend: backend, live: live).add(to: portal)
        let templates = TemplateVersions(backend: backend)
        WizardPages(views: views, backend: backend, accounts: accounts, templates: templates).add(to: portal)
        ProjectPages(views: views, backend: backend, live: live, templates: templates).add(to: portal)
        SurveyPages(views: views, backend: backend).add(to: portal)
        AccountPages(views: views, accounts: accounts).add(to: portal)
        AdminPages(views: views, backend: backend, templates: templates).add(to: portal)
        // A review link opens its approval without a sign-in: the token in the address is the credential.
        let review = router.group("review").add(middleware: PortalErrorMiddleware(views: views))
            .add(middleware: PortalSessionMiddleware(accounts: accounts))
        ApprovalPages(views: views, backend: backend).add(portal: portal, review: review)
    }
}

/// The Gateway as an application on `port` (0: any free one), for tests and tools that need no service host.
func buildApplication(_ app: GatewayApp, host: String = "127.0.0.1", port: Int = 0) -> some ApplicationProtocol {
    Application(router: app.router(), configuration: .init(address: .hostname(host, port: port), serverName: "Gateway"))
}
