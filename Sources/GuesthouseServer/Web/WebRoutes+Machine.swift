import Foundation
import GuesthouseCore
import Hummingbird

/// A machine's page: details, power (stop and delete confirmed first), the state the page's script
/// polls, the export download, and the forms of `WebRoutes+MachineResources`.
extension WebRoutes {
    func registerMachine(_ on: On) {
        on(.get, "/machines/:provider/:id/") { request, context in
            try await page(request) { s, _ in
                let (provider, id) = try Self.machinePath(context)
                return try await machinePage(s, provider: provider, id: id)
            }
        }
        on(.get, "/machines/:provider/:id/state/") { request, context in
            try await machineState(request, context)
        }
        on(.get, "/machines/:provider/:id/export/") { request, context in
            try await page(request) { s, _ in
                let (provider, id) = try Self.machinePath(context)
                let machine = try await lookUpMachine(s, provider: provider, id: id)
                let archive = try await machineHypervisor(provider).exportGuest(guestID: machine.id)
                return archive.download(logger: context.logger)
            }
        }
        on(.post, "/machines/:provider/:id/:action/") { request, context in
            try await page(request, post: true) { s, fields in
                let (provider, id) = try Self.machinePath(context)
                return try await act(s, fields, provider: provider, id: id, action: try context.parameters.require("action"))
            }
        }
    }

    static func machinePath(_ context: GuesthouseContext) throws -> (provider: String, id: String) {
        (try context.parameters.require("provider"), try context.parameters.require("id"))
    }

    /// The one way a page, form or action finds its machine: everything about a machine goes
    /// through here (a per-user check belongs here and then applies to all of them).
    func lookUpMachine(_ session: WebSession, provider: String, id: String) async throws -> Machine {
        try await providers.machine(provider: provider, id: id)
    }

    /// The provider's hypervisor, for snapshots, disks, media, clones and exports.
    func machineHypervisor(_ provider: String) throws -> any MachineHypervisor {
        guard let source = providers as? any MachineHypervisors else {
            throw GuesthouseError.notImplemented("this server's providers have no snapshots, disks, media or exports")
        }
        return try source.hypervisor(provider: provider)
    }

    /// A form's problem, shown beside its field: `field` names the input.
    struct FieldProblem {
        var field: String
        var message: String
        var status: Int
    }

    /// The machine's page; with `problem` it is the page again after a form failed (its values
    /// kept, the message beside the field, the problem's 4xx status).
    func machinePage(_ session: WebSession, provider: String, id: String, form: FormFields = FormFields(),
                     problem: FieldProblem? = nil) async throws -> Response {
        let machine = try await lookUpMachine(session, provider: provider, id: id)
        let running = machine.state == "running"
        let actions: [[String: Any]] = (running ? [("stop", "Stop"), ("reboot", "Reboot")] : [("start", "Start")])
            .map { ["name": $0.0, "label": $0.1] } + [["name": "delete", "label": "Delete", "danger": true]]
        let disk = machine.rootDisk.map { d in
            [Self.bytes(d.size), d.type, d.driver.isEmpty ? "" : "(\(d.driver))"].filter { !$0.isEmpty }.joined(separator: " ")
        } ?? ""
        let base = "/machines/\(Self.segment(provider))/\(Self.segment(machine.id))/"
        var context: [String: Any] = [
            "provider": provider, "machine": Self.dictionary(machine), "memory": Self.bytes(machine.memory),
            "disk": disk, "userdata": machine.userdata, "actions": actions, "csrf": session.csrf, "base": base,
            "form": ["snapshotName": form.first("name") ?? "", "diskSize": form.first("size") ?? "",
                     "cloneName": form.first("clone") ?? ""],
        ]
        if let problem { context["errors"] = [problem.field: problem.message] }
        // Only a real gateway gets its parenthesis (an empty one used to show as "(gateway )").
        if !machine.ip.gateway.isEmpty { context["gateway"] = machine.ip.gateway }
        context.merge(await resourceSections(provider: provider, machine: machine, form: form)) { a, _ in a }
        let status = problem.map { HTTPResponse.Status(code: $0.status) } ?? .ok
        return html(WebPage(title: "Machine \(machine.name)", body: WebTemplates.render("machine", context),
                            session: session, live: true), status: status)
    }

    /// Snapshots, disks, media and pools for the page; a part the provider cannot show says why
    /// in its own section instead of failing the page.
    func resourceSections(provider: String, machine: Machine, form: FormFields) async -> [String: Any] {
        let hypervisor: any MachineHypervisor
        do { hypervisor = try machineHypervisor(provider) } catch { return ["resourcesError": Self.message(error)] }
        var context: [String: Any] = [:]
        let guestID = machine.id
        func section(_ key: String, _ body: () async throws -> Any) async {
            do { context[key] = try await body() } catch { context[key + "Error"] = Self.message(error) }
        }
        await section("snapshots") {
            try await hypervisor.snapshots(guestID: guestID).map { snapshot -> [String: Any] in
                ["name": snapshot.name, "state": snapshot.state, "segment": Self.segment(snapshot.name),
                 "created": snapshot.created.map { ISO8601DateFormatter().string(from: $0) } ?? ""]
            }
        }
        await section("disks") {
            try await hypervisor.disks(guestID: guestID).map { disk -> [String: Any] in
                ["id": disk.id, "name": disk.name, "pool": disk.pool ?? "", "bus": disk.bus, "format": disk.format ?? "",
                 "size": disk.capacityBytes.map(Self.bytes) ?? "", "segment": Self.segment(disk.id),
                 "selected": form.first("disk") == disk.id]
            }
        }
        if let disks = context["disks"] as? [[String: Any]] { context["hasDisks"] = !disks.isEmpty }
        await section("pools") {
            let chosen = form.first("pool")
            return try await hypervisor.storages().map { ["name": $0.name, "selected": $0.name == chosen] as [String: Any] }
        }
        await section("media") {
            let mounted = try await hypervisor.mediaDevice(guestID: guestID)
            let chosen = form.first("image") ?? mounted
            let images = try await hypervisor.mediaImages().map { ["name": $0, "selected": $0 == chosen] as [String: Any] }
            // Absent, not empty, when the drive is empty: Mustache shows a section for any string.
            var media: [String: Any] = ["images": images]
            if let mounted { media["mounted"] = mounted }
            return media
        }
        return context
    }

    /// Power: start and reboot at once; stop and delete after a confirmation step.
    func act(_ session: WebSession, _ fields: FormFields, provider: String, id: String, action: String) async throws -> Response {
        guard action == "delete" || MachineAction(rawValue: action) != nil else {
            throw GuesthouseError.notFound("no action \(action)")
        }
        let machine = try await lookUpMachine(session, provider: provider, id: id)
        let base = "/machines/\(Self.segment(provider))/\(Self.segment(machine.id))/"
        if action == "delete" || action == "stop" {
            let question = action == "delete"
                ? "Delete machine \(machine.name) with its disks? This cannot be undone."
                : "Stop machine \(machine.name) now? It is switched off without a shutdown, as if unplugged."
            if let confirm = confirmation(session, fields, question: question, button: action == "delete" ? "Delete" : "Stop",
                                          action: base + action + "/", back: base) { return confirm }
        }
        if action == "delete" {
            try await providers.delete(provider: provider, id: machine.id)
            return redirect("/machines/")
        }
        try await providers.perform(MachineAction(rawValue: action)!, provider: provider, id: machine.id)
        return redirect(base)
    }

    /// nil when the form carries `confirm=yes`; otherwise the page asking, whose form posts the same
    /// fields again with the confirmation (no script needed).
    func confirmation(_ session: WebSession, _ fields: FormFields, question: String, button: String,
                      action: String, back: String) -> Response? {
        if fields.first("confirm") == "yes" { return nil }
        let keep = fields.values.filter { $0.key != "csrf" && $0.key != "confirm" }.sorted { $0.key < $1.key }
            .flatMap { key, values in values.map { ["name": key, "value": $0] } }
        return html(WebPage(title: "Please confirm", body: WebTemplates.render("confirm", [
            "question": question, "button": button, "action": action, "back": back, "csrf": session.csrf, "keep": keep,
        ]), session: session))
    }

    /// `{"state": ...}` for the page's script (the session's cookie, no redirect: a 401 without it).
    func machineState(_ request: Request, _ context: GuesthouseContext) async throws -> Response {
        guard let session = session(request) else { return Self.json(["error": "no session"], status: .unauthorized) }
        do {
            let (provider, id) = try Self.machinePath(context)
            let machine = try await lookUpMachine(session, provider: provider, id: id)
            return Self.json(["state": machine.state])
        } catch let error as GuesthouseError {
            return Self.json(["error": error.message], status: .init(code: error.httpStatus))
        }
    }

    static func json(_ object: [String: String], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A path segment: anything outside unreserved characters percent-encoded.
    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }
}
