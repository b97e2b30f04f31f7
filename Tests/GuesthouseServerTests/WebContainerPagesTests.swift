import Foundation
import GuesthouseCore
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// The containers pages over an in-memory container service (the pages, not libvirt-LXC, are
/// under test; ContainerTests cover the service): list, create with problems beside their fields,
/// start, stop and delete (confirmed first), the console link.
@Suite struct WebContainerPagesTests {
    typealias Web = WebUITests

    /// Containers kept in a dictionary, with creepy-meow's rules for ids and states.
    final class MemoryContainers: ContainerService {
        let all = Mutex<[Int: Container]>([:])
        var vnis: [Int] { [2, 3] }

        func create(_ spec: ContainerSpec) async throws -> Container {
            try all.withLock { all in
                guard all[spec.id] == nil else { throw GuesthouseError.conflict("container\(spec.id) already exists") }
                var container = Container(id: spec.id, name: "container\(spec.id)", state: .running,
                                          memoryLimitBytes: 256 << 20)
                container.ip = spec.ip
                container.vlan = spec.vlan
                all[spec.id] = container
                return container
            }
        }
        func runningIDs() async throws -> [Int] { all.withLock { $0.values.filter { $0.state == .running }.map(\.id).sorted() } }
        func container(id: Int) async throws -> Container {
            guard let container = all.withLock({ $0[id] }) else { throw GuesthouseError.notFound("no container\(id)") }
            return container
        }
        func set(_ id: Int, _ state: Container.State) throws {
            try all.withLock { all in
                guard all[id] != nil else { throw GuesthouseError.notFound("no container\(id)") }
                all[id]!.state = state
            }
        }
        func start(id: Int) async throws { try set(id, .running) }
        func stop(id: Int) async throws { try set(id, .stopped) }
        func delete(id: Int) async throws {
            guard all.withLock({ $0.removeValue(forKey: id) }) != nil else { throw GuesthouseError.notFound("no container\(id)") }
        }
        func consoleLog(id: Int) async throws -> String { "" }
    }

    static func fieldError(_ page: WebUITests.Page, _ id: String) -> String? {
        WebMachinePagesTests.fieldError(page, id)
    }

    @Test func containersAreCreatedListedStoppedStartedAndDeleted() async throws {
        let containers = MemoryContainers()
        try await Web.server().run(containers: containers) { client in
            let (cookies, csrf) = try await Web.logIn(client)
            let empty = try await Web.request(client, .get, "/containers/", cookies: cookies)
            #expect(empty.status == .ok && empty.text.contains("No running containers."))
            #expect(empty.text.contains("<option>2</option><option>3</option>"))

            let bad = try await Web.request(client, .post, "/containers/", cookies: cookies,
                                            form: ["csrf": csrf, "id": "x", "ip": "300.1.1.1/24", "vlan": "9"])
            #expect(bad.status == .badRequest)
            #expect(Self.fieldError(bad, "c-id")?.contains("whole number") == true)
            #expect(Self.fieldError(bad, "c-ip") != nil)
            #expect(Self.fieldError(bad, "c-vlan")?.contains("must be one of 2, 3") == true)
            #expect(bad.text.contains("value=\"300.1.1.1/24\""))
            #expect(try await containers.runningIDs().isEmpty)

            let created = try await Web.request(client, .post, "/containers/", cookies: cookies,
                                                form: ["csrf": csrf, "id": "7", "ip": "192.168.2.7/24", "vlan": "3"])
            #expect(created.status == .seeOther)
            #expect(created.headers[.location] == "/containers/7/")
            #expect(try await containers.container(id: 7).vlan == 3)
            let again = try await Web.request(client, .post, "/containers/", cookies: cookies,
                                              form: ["csrf": csrf, "id": "7", "ip": "192.168.2.8/24", "vlan": "3"])
            #expect(again.status == .conflict)
            #expect(Self.fieldError(again, "c-id")?.contains("already exists") == true)

            let list = try await Web.request(client, .get, "/containers/", cookies: cookies)
            #expect(list.text.contains("<a href=\"/containers/7/\">container7</a>"))
            let page = try await Web.request(client, .get, "/containers/7/", cookies: cookies)
            #expect(page.status == .ok && page.text.contains("Container container7"))
            #expect(page.text.contains("href=\"/containers/7/console/serial/\""))
            #expect(page.text.contains("data-state-url=\"/containers/7/state/\""))
            let state = try await client.call(.get, "/containers/7/state/",
                                              headers: [.cookie: "guesthouse_session=\(cookies["guesthouse_session"]!)"])
            #expect(state.text == #"{"state":"RUNNING"}"#)

            let ask = try await Web.request(client, .post, "/containers/7/stop/", cookies: cookies, form: ["csrf": csrf])
            #expect(ask.status == .ok && ask.text.contains("Stop container container7?"))
            #expect(try await containers.container(id: 7).state == .running)
            let stopped = try await Web.request(client, .post, "/containers/7/stop/", cookies: cookies,
                                                form: ["csrf": csrf, "confirm": "yes"])
            #expect(stopped.status == .seeOther)
            #expect(try await containers.container(id: 7).state == .stopped)
            let started = try await Web.request(client, .post, "/containers/7/start/", cookies: cookies, form: ["csrf": csrf])
            #expect(started.status == .seeOther)
            #expect(try await containers.container(id: 7).state == .running)
            let askDelete = try await Web.request(client, .post, "/containers/7/delete/", cookies: cookies, form: ["csrf": csrf])
            #expect(askDelete.status == .ok && askDelete.text.contains("Delete container container7"))
            let deleted = try await Web.request(client, .post, "/containers/7/delete/", cookies: cookies,
                                                form: ["csrf": csrf, "confirm": "yes"])
            #expect(deleted.headers[.location] == "/containers/")
            #expect((try? await containers.container(id: 7)) == nil)
            let gone = try await Web.request(client, .get, "/containers/7/", cookies: cookies)
            #expect(gone.status == .notFound)
            // Forms refuse a missing token, and nothing happens.
            let forged = try await Web.request(client, .post, "/containers/", cookies: cookies,
                                               form: ["id": "8", "ip": "192.168.2.8/24", "vlan": "2"])
            #expect(forged.status == .forbidden)
            #expect(try await containers.runningIDs().isEmpty)
        }
    }

    @Test func withoutContainersThePageSaysSo() async throws {
        try await Web.server().run { client in
            let (cookies, _) = try await Web.logIn(client)
            let page = try await Web.request(client, .get, "/containers/", cookies: cookies)
            #expect(page.status == .notFound)
            #expect(page.text.contains("containers are not configured"))
        }
    }
}
