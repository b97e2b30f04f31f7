import Foundation
import GuesthouseConfig
import GuesthouseCore
import Hummingbird

/// vmango's web UI: login/logout, provider status, machines (list, create, detail with power,
/// snapshots, disks, media, clone and export), images and containers. Sessions are signed cookies;
/// every form carries the session's CSRF token (the login form a double-submit one), state changes
/// are POSTs only, and destructive ones ask for confirmation first. Pages are HTML; problems show
/// inside the page (a form's beside its field), never a stack trace. The only script is a static file.
struct WebRoutes: Sendable {
    let providers: any MachineProviders
    let config: Config
    let authenticator: Authenticator
    /// nil when `[server] session_secret` is not set: the web UI is then off (JSON APIs still work).
    let codec: SessionCodec?
    /// The host's containers, nil when `[containers]` is not configured.
    var containers: (any ContainerService)? = nil

    /// The paths of the web UI besides `/`.
    static let prefixes = ["/login/", "/logout/", "/machines/", "/images/", "/containers/", "/static/"]

    func register(_ router: Router<GuesthouseContext>) {
        WebStyle.register(router)
        WebScript.register(router)
        // Each route notes its template and parameters for the audit log.
        func on(_ method: HTTPRequest.Method, _ path: String,
                _ handler: @escaping @Sendable (Request, GuesthouseContext) async throws -> Response) {
            router.on(RouterPath(path), method: method) { request, context in
                RequestOrigin.current?.note(route: path, parameters: context.parameters)
                return try await handler(request, context)
            }
        }
        on(.get, "/login/") { request, _ in try loginPage(request, error: nil) }
        on(.post, "/login/") { request, _ in try await login(request) }
        on(.post, "/logout/") { request, _ in try await page(request, post: true) { _, _ in logout() } }
        on(.get, "/") { request, _ in try await page(request) { s, _ in try await status(s) } }
        on(.get, "/machines/") { request, _ in try await page(request) { s, _ in try await machineList(s) } }
        on(.get, "/machines/add/") { request, _ in try await page(request) { s, _ in try await addForm(s, fields: nil, error: nil) } }
        on(.post, "/machines/add/") { request, _ in try await page(request, post: true) { s, f in try await add(s, f) } }
        on(.get, "/images/") { request, _ in try await page(request) { s, _ in try await imageList(s) } }
        registerMachine(on)
        registerMachineResources(on)
        registerContainers(on)
    }

    /// Registers one route (noting its template and parameters for the audit log).
    typealias On = (HTTPRequest.Method, String,
                    @escaping @Sendable (Request, GuesthouseContext) async throws -> Response) -> Void

    // MARK: - Sessions

    func session(_ request: Request) -> WebSession? {
        guard let codec, let cookie = request.cookies[WebSession.cookieName] else { return nil }
        return codec.decode(cookie.value)
    }

    /// Runs a page handler for a logged-in user (else redirects to the login page); for POSTs, reads
    /// the form and checks its CSRF token first.
    func page(_ request: Request, post: Bool = false,
                      _ body: (WebSession, FormFields) async throws -> Response) async throws -> Response {
        guard codec != nil else { return disabled() }
        let session = session(request)
        if let session { RequestOrigin.current?.note(user: session.user) }
        guard let session else {
            if post { return html(WebPage(title: "Session expired", body: "<p><a href=\"/login/\">Log in again</a></p>"), status: .forbidden) }
            let next = request.uri.path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? "/"
            return redirect("/login/?next=\(next)")
        }
        var fields = FormFields()
        if post {
            fields = try await FormFields.read(request)
            guard constantTimeEqual(fields.first("csrf") ?? "", session.csrf) else {
                RequestOrigin.current?.note(error: GuesthouseError(.forbidden, "wrong CSRF token"))
                return html(WebPage(title: "Forbidden", error: "The form's CSRF token is missing or wrong; reload the page and try again.",
                                    session: session), status: .forbidden)
            }
        }
        do {
            return try await body(session, fields)
        } catch let error as GuesthouseError {
            RequestOrigin.current?.note(error: error)
            return html(WebPage(title: "Error", error: error.message, session: session),
                        status: .init(code: error.httpStatus))
        }
    }

    func loginPage(_ request: Request, error: String?, status: HTTPResponse.Status = .ok) throws -> Response {
        guard codec != nil else { return disabled() }
        let token = WebSession.randomToken()
        let next = request.uri.queryParameters.get("next") ?? "/"
        var response = html(WebPage(title: "Log in", error: error,
                                    body: WebTemplates.render("login", ["loginToken": token, "next": safeNext(next)])),
                            status: status)
        response.setCookie(Cookie(name: WebSession.loginCookieName, value: token, maxAge: 3600, path: "/login/",
                                  secure: config.server.usesTLS, httpOnly: true, sameSite: .strict))
        return response
    }

    func login(_ request: Request) async throws -> Response {
        guard let codec else { return disabled() }
        let fields = try await FormFields.read(request)
        guard let cookie = request.cookies[WebSession.loginCookieName],
              constantTimeEqual(fields.first("csrf") ?? "", cookie.value) else {
            return try loginPage(request, error: "The login form expired; please try again.", status: .forbidden)
        }
        let credentials = Credentials(username: fields.first("Username") ?? "", password: fields.first("Password") ?? "")
        let verified: Bool
        do {
            verified = credentials.username.isEmpty ? false : try await authenticator.verify(credentials)
        } catch let error as GuesthouseError where error.kind == .tooManyRequests {
            var response = try loginPage(request, error: "Too many failed logins; try again in \(error.retryAfter ?? 1) s.",
                                         status: .tooManyRequests)
            error.decorate(&response)
            return response
        }
        guard verified else {
            return try loginPage(request, error: "Authentication failed", status: .unauthorized)
        }
        var response = redirect(safeNext(fields.first("next") ?? "/"))
        response.setCookie(Cookie(name: WebSession.cookieName, value: codec.encode(WebSession(user: credentials.username)),
                                  maxAge: Int(WebSession.lifetime), path: "/", secure: config.server.usesTLS, httpOnly: true, sameSite: .lax))
        return response
    }

    func logout() -> Response {
        var response = redirect("/login/")
        response.setCookie(Cookie(name: WebSession.cookieName, value: "", maxAge: 0, path: "/", secure: config.server.usesTLS, httpOnly: true, sameSite: .lax))
        return response
    }

    /// Only local paths: a login link cannot send the user elsewhere.
    func safeNext(_ next: String) -> String {
        next.hasPrefix("/") && !next.hasPrefix("//") && !next.contains("\\") ? next : "/"
    }

    // MARK: - Helpers

    func disabled() -> Response {
        html(WebPage(title: "Web UI disabled",
                     error: "Set [server] session_secret in the configuration to use the web UI; the JSON APIs work without it."),
             status: .notFound)
    }

    func html(_ page: WebPage, status: HTTPResponse.Status = .ok) -> Response {
        var context: [String: Any] = ["title": page.title, "body": page.body]
        if page.live { context["script"] = WebScript.path }
        if let error = page.error { context["error"] = error }
        if let session = page.session {
            context["user"] = session.user
            context["csrf"] = session.csrf
        }
        let text = WebTemplates.render("layout", context)
        return Response(status: status, headers: [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            .init("X-Frame-Options")!: "DENY", .init("Content-Security-Policy")!: Self.contentSecurityPolicy,
        ], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// No inline scripts or styles, no frames, forms only to this server.
    static let contentSecurityPolicy = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    static func message(_ error: any Error) -> String {
        (error as? GuesthouseError)?.message ?? "unavailable"
    }

    /// A value's JSON form as a dictionary (the API's field names), for templates.
    static func dictionary(_ value: some Encodable) -> [String: Any] {
        guard let data = try? JSONResponse.encoder.encode(value),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object
    }

    static func bytes(_ count: UInt64) -> String { ByteCountText.binary(count) }
}

/// What the layout wraps.
struct WebPage {
    var title: String
    var error: String?
    var body: String = ""
    var session: WebSession?
    /// Whether the page loads the script that keeps its state badge current.
    var live = false
}
