import Foundation
import GuesthouseCore
import Hummingbird

/// The containers pages over the container service (the calls creepy-meow's API makes): the running
/// containers with the create form (its problems beside their fields), and one container's page
/// with start, stop and delete (those two confirmed first) and its serial console's link.
extension WebRoutes {
    func registerContainers(_ on: On) {
        on(.get, "/containers/") { request, _ in
            try await page(request) { s, _ in try await containerList(s, fields: FormFields(), errors: [:]) }
        }
        on(.post, "/containers/") { request, _ in
            try await page(request, post: true) { s, fields in try await createContainer(s, fields) }
        }
        on(.get, "/containers/:id/") { request, context in
            try await page(request) { s, _ in try await containerPage(s, id: try Self.containerID(context)) }
        }
        on(.get, "/containers/:id/state/") { request, context in
            guard session(request) != nil else { return Self.json(["error": "no session"], status: .unauthorized) }
            do {
                let container = try await containerService().container(id: try Self.containerID(context))
                return Self.json(["state": container.state.rawValue])
            } catch let error as GuesthouseError {
                return Self.json(["error": error.message], status: .init(code: error.httpStatus))
            }
        }
        on(.post, "/containers/:id/:action/") { request, context in
            try await page(request, post: true) { s, fields in
                try await containerAction(s, fields, id: try Self.containerID(context),
                                          action: try context.parameters.require("action"))
            }
        }
    }

    func containerService() throws -> any ContainerService {
        guard let containers else { throw GuesthouseError.notFound("containers are not configured on this server ([containers])") }
        return containers
    }

    static func containerID(_ context: GuesthouseContext) throws -> Int {
        guard let text = context.parameters.get("id"), let id = ContainerRequests.integer(text),
              ContainerRequests.idRange.contains(id) else {
            throw GuesthouseError.notFound("no container \(context.parameters.get("id") ?? "")")
        }
        return id
    }

    func containerList(_ session: WebSession, fields: FormFields, errors: [String: String],
                       status: HTTPResponse.Status = .ok) async throws -> Response {
        let service = try containerService()
        var rows: [[String: Any]] = []
        var listError: String?
        do {
            for id in try await service.runningIDs() {
                guard let container = try? await service.container(id: id) else { continue }
                rows.append(Self.containerRow(container))
            }
        } catch { listError = Self.message(error) }
        let chosen = fields.first("vlan")
        var context: [String: Any] = [
            "containers": rows, "csrf": session.csrf, "errors": errors,
            "form": ["id": fields.first("id") ?? "", "ip": fields.first("ip") ?? ""],
            "vnis": service.vnis.map { ["vni": $0, "selected": String($0) == chosen] as [String: Any] },
        ]
        if let listError { context["listError"] = listError }
        return html(WebPage(title: "Containers", body: WebTemplates.render("containers", context), session: session),
                    status: status)
    }

    static func containerRow(_ container: Container) -> [String: Any] {
        ["id": container.id, "name": container.name, "state": container.state.rawValue, "ip": container.ip ?? "",
         "vlan": container.vlan.map(String.init) ?? "", "memory": Self.bytes(container.memoryLimitBytes)]
    }

    func createContainer(_ session: WebSession, _ fields: FormFields) async throws -> Response {
        let service = try containerService()
        do {
            let spec = try ContainerRequests.spec(fields, vnis: service.vnis)
            let container = try await service.create(spec)
            return redirect("/containers/\(container.id)/")
        } catch let error as ContainerFieldErrors {
            return try await containerList(session, fields: fields, errors: error.fields, status: .badRequest)
        } catch let error as GuesthouseError where error.httpStatus < 500 {
            // A taken id (409) belongs beside the id.
            return try await containerList(session, fields: fields, errors: ["id": error.message],
                                           status: .init(code: error.httpStatus))
        }
    }

    func containerPage(_ session: WebSession, id: Int) async throws -> Response {
        let container = try await containerService().container(id: id)
        let actions: [[String: Any]] = (container.state == .running ? [("stop", "Stop")] : [("start", "Start")])
            .map { ["name": $0.0, "label": $0.1] } + [["name": "delete", "label": "Delete", "danger": true]]
        var row = Self.containerRow(container)
        row["gateway"] = container.gateway ?? ""
        row["mac"] = container.mac ?? ""
        return html(WebPage(title: "Container \(container.name)", body: WebTemplates.render("container", [
            "container": row, "actions": actions, "csrf": session.csrf,
        ]), session: session, live: true))
    }

    func containerAction(_ session: WebSession, _ fields: FormFields, id: Int, action: String) async throws -> Response {
        guard ["start", "stop", "delete"].contains(action) else { throw GuesthouseError.notFound("no action \(action)") }
        let service = try containerService()
        let container = try await service.container(id: id)
        let base = "/containers/\(id)/"
        if action != "start", let confirm = confirmation(
            session, fields, question: action == "delete" ? "Delete container \(container.name) with its files?"
                : "Stop container \(container.name)?",
            button: action == "delete" ? "Delete" : "Stop", action: base + action + "/", back: base) {
            return confirm
        }
        switch action {
        case "start": try await service.start(id: id)
        case "stop": try await service.stop(id: id)
        default:
            try await service.delete(id: id)
            return redirect("/containers/")
        }
        return redirect(base)
    }
}
