import Foundation
import GuesthouseConfig
import GuesthouseCore
import Hummingbird

/// vmango's web UI: login/logout, provider status, machines (list, create, detail with start, stop,
/// reboot and delete) and images. Sessions are signed cookies; every form carries the session's
/// CSRF token (the login form a double-submit one), and state changes are POSTs only.
/// Pages are HTML; problems show inside the page, never a stack trace.
struct WebRoutes: Sendable {
    let providers: any MachineProviders
    let config: Config
    let authenticator: Authenticator
    /// nil when `[server] session_secret` is not set: the web UI is then off (JSON APIs still work).
    let codec: SessionCodec?
    /// The audit log its page reads (admins only).
    var audit: AuditLog?


    /// The paths of the web UI besides `/`.
    static let prefixes = ["/login/", "/logout/", "/machines/", "/images/", "/static/", "/audit/"]

    func register(_ router: Router<GuesthouseContext>) {
        WebStyle.register(router)
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
        on(.get, "/machines/:provider/:id/") { request, context in
            try await page(request) { s, _ in
                try await machinePage(s, provider: try context.parameters.require("provider"),
                                      id: try context.parameters.require("id"))
            }
        }
        on(.post, "/machines/:provider/:id/:action/") { request, context in
            try await page(request, post: true) { s, _ in
                try await act(s, provider: try context.parameters.require("provider"),
                              id: try context.parameters.require("id"), action: try context.parameters.require("action"))
            }
        }
        on(.get, "/images/") { request, _ in try await page(request) { s, _ in try await imageList(s) } }
        on(.get, "/audit/") { request, _ in try await page(request) { s, _ in try await auditPage(s, request) } }
    }

    // MARK: - Sessions

    private func session(_ request: Request) -> WebSession? {
        guard let codec, let cookie = request.cookies[WebSession.cookieName] else { return nil }
        return codec.decode(cookie.value)
    }

    /// Runs a page handler for a logged-in user (else redirects to the login page); for POSTs, reads
    /// the form and checks its CSRF token first.
    private func page(_ request: Request, post: Bool = false,
                      _ body: (WebSession, FormFields) async throws -> Response) async throws -> Response {
        guard codec != nil else { return disabled() }
        let session = session(request)
        if let session { RequestOrigin.current?.note(principal: authenticator.principal(session.user)) }
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

    private func loginPage(_ request: Request, error: String?, status: HTTPResponse.Status = .ok) throws -> Response {
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

    private func login(_ request: Request) async throws -> Response {
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

    private func logout() -> Response {
        var response = redirect("/login/")
        response.setCookie(Cookie(name: WebSession.cookieName, value: "", maxAge: 0, path: "/", secure: config.server.usesTLS, httpOnly: true, sameSite: .lax))
        return response
    }

    /// Only local paths: a login link cannot send the user elsewhere.
    private func safeNext(_ next: String) -> String {
        next.hasPrefix("/") && !next.hasPrefix("//") && !next.contains("\\") ? next : "/"
    }

    // MARK: - Pages

    private func status(_ session: WebSession) async throws -> Response {
        let rows = await providers.eachProvider { try await providers.status(provider: $0) }.map { name, result in
            Self.row(name, result) { s -> [String: Any] in
                ["machines": s.machines, "running": s.runningMachines,
                 "memoryUsed": Self.bytes(s.memoryUsed), "memoryTotal": Self.bytes(s.memoryTotal),
                 "storageUsed": Self.bytes(s.storageUsed), "storageTotal": Self.bytes(s.storageTotal)]
            }
        }
        return html(WebPage(title: "Providers", body: WebTemplates.render("status", ["providers": rows]), session: session))
    }

    private func machineList(_ session: WebSession) async throws -> Response {
        let rows = await providers.eachProvider { try await providers.machines(provider: $0) }.map { name, result in
            Self.row(name, result) { machines -> [String: Any] in
                ["machines": machines.map { machine -> [String: Any] in
                    var row = Self.dictionary(machine)
                    row["provider"] = name
                    row["memory"] = Self.bytes(machine.memory)
                    return row
                }]
            }
        }
        return html(WebPage(title: "Machines", body: WebTemplates.render("machines", ["providers": rows]), session: session))
    }

    /// A provider's row of a page: its name and what `fields` makes of its answer, or its error.
    static func row<T>(_ name: String, _ result: Result<T, any Error>, _ fields: (T) -> [String: Any]) -> [String: Any] {
        switch result {
        case .success(let value): fields(value).merging(["name": name]) { a, _ in a }
        case .failure(let error): ["name": name, "error": message(error)]
        }
    }

    private func machinePage(_ session: WebSession, provider: String, id: String) async throws -> Response {
        let machine = try await providers.machine(provider: provider, id: id)
        let actions: [[String: Any]] = (machine.state == "running"
            ? [("stop", "Stop"), ("reboot", "Reboot")] : [("start", "Start")]) .map { ["name": $0.0, "label": $0.1] }
            + [["name": "delete", "label": "Delete", "danger": true]]
        let disk = machine.rootDisk.map { d in
            [Self.bytes(d.size), d.type, d.driver.isEmpty ? "" : "(\(d.driver))"].filter { !$0.isEmpty }.joined(separator: " ")
        } ?? ""
        var context: [String: Any] = [
            "provider": provider, "machine": Self.dictionary(machine), "memory": Self.bytes(machine.memory),
            "disk": disk, "userdata": machine.userdata, "actions": actions, "csrf": session.csrf,
        ]
        // Only a real gateway gets its parenthesis (an empty one used to show as "(gateway )").
        if !machine.ip.gateway.isEmpty { context["gateway"] = machine.ip.gateway }
        return html(WebPage(title: "Machine \(machine.name)", body: WebTemplates.render("machine", context), session: session))
    }

    private func act(_ session: WebSession, provider: String, id: String, action: String) async throws -> Response {
        if action == "delete" {
            try await providers.delete(provider: provider, id: id)
            return redirect("/machines/")
        }
        guard let machineAction = MachineAction(rawValue: action) else {
            throw GuesthouseError.notFound("no action \(action)")
        }
        try await providers.perform(machineAction, provider: provider, id: id)
        return redirect("/machines/\(provider)/\(id)/")
    }

    private func addForm(_ session: WebSession, fields: FormFields?, error: GuesthouseError?) async throws -> Response {
        var images: [[String: Any]] = []
        for name in providers.providerNames {
            for image in (try? await providers.images(provider: name)) ?? [] {
                var row = Self.dictionary(image)
                row["provider"] = name
                images.append(row)
            }
        }
        let plans = config.plans.values.sorted { $0.name < $1.name }.map {
            ["name": $0.name, "memory": $0.memoryMiB, "cpus": $0.cpus, "disk": $0.diskSizeGiB] as [String: Any]
        }
        let keys = config.sshKeys.keys.sorted().enumerated().map { ["name": $1, "id": "key-\($0)"] }
        let quota = await quotaText(session)
        return html(WebPage(title: "New machine", error: error?.message, body: WebTemplates.render("add", [
            "csrf": session.csrf, "providers": providers.providerNames, "plans": plans, "images": images, "keys": keys,
            "form": ["Name": fields?.first("Name") ?? "", "Userdata": fields?.first("Userdata") ?? ""],
            "quota": quota as Any,
        ]), session: session), status: error.map { .init(code: $0.httpStatus) } ?? .ok)
    }

    private func add(_ session: WebSession, _ fields: FormFields) async throws -> Response {
        do {
            let (provider, request) = try MachineForm.request(fields, config: config, creator: session.user,
                                                              providers: providers.providerNames)
            let machine = try await providers.create(provider: provider, request)
            return redirect("/machines/\(provider)/\(machine.id)/")
        } catch let error as GuesthouseError {
            // Shown beside the form (a quota refusal too), and noted for the audit line.
            RequestOrigin.current?.note(error: error)
            return try await addForm(session, fields: fields, error: error)
        }
    }

    private func imageList(_ session: WebSession) async throws -> Response {
        let rows = await providers.eachProvider { try await providers.images(provider: $0) }.map { name, result in
            Self.row(name, result) { images -> [String: Any] in
                ["images": images.map { image -> [String: Any] in
                    var row = Self.dictionary(image)
                    row["format"] = image.format.name
                    row["size"] = Self.bytes(image.size)
                    return row
                }]
            }
        }
        return html(WebPage(title: "Images", body: WebTemplates.render("images", ["providers": rows]), session: session))
    }

    // MARK: - Helpers

    private func disabled() -> Response {
        html(WebPage(title: "Web UI disabled",
                     error: "Set [server] session_secret in the configuration to use the web UI; the JSON APIs work without it."),
             status: .notFound)
    }

    func html(_ page: WebPage, status: HTTPResponse.Status = .ok) -> Response {
        var context: [String: Any] = ["title": page.title, "body": page.body]
        if let error = page.error { context["error"] = error }
        if let session = page.session {
            context["user"] = session.user
            context["csrf"] = session.csrf
            if authenticator.role(of: session.user) == .admin { context["admin"] = true }
        }
        let text = WebTemplates.render("layout", context)
        return Response(status: status, headers: [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            .init("X-Frame-Options")!: "DENY", .init("Content-Security-Policy")!: Self.contentSecurityPolicy,
        ], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// No inline scripts or styles, no frames, forms only to this server.
    static let contentSecurityPolicy = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    private func redirect(_ location: String) -> Response {
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
}
