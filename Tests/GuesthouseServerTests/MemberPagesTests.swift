import Foundation
import GuesthouseConfig
import GuesthouseCore
@testable import GuesthouseServer
import GuesthouseLibvirt
import GuesthouseVmango
import Logging
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The machine and container pages (state, export, resource forms) through the same ownership
/// layer as the API: a member reaches only their own, and the forms that grow a machine stay
/// within their quota.
@Suite struct MemberPagesTests {
    static let web1 = WebMachinePagesTests.web1

    /// The page path of a demo machine, by name.
    static func path(_ client: any TestClientProtocol, _ name: String) async throws -> String {
        let id = try #require(try await Delegation.machine(client, name)?["Id"] as? String)
        return "/machines/LOCAL1/\(id)/"
    }

    static func diskCount(_ server: TestServer, _ name: String) async throws -> Int {
        try await server.connection().domain(name: name).xml(inactive: true).components(separatedBy: "<disk ").count - 1
    }

    @Test func aMemberReachesNoOtherMachineThroughThePages() async throws {
        try await AuditLogTests.withFile { path in
            let server = try Delegation.server(audit: path)
            try await server.run { client in
                let (cookies, csrf) = try await WebUITests.logIn(client, as: Delegation.member)
                let session: HTTPFields = [.cookie: "guesthouse_session=\(cookies["guesthouse_session"]!)"]
                let state = try await client.call(.get, Self.web1 + "state/", headers: session)
                #expect(state.status == .notFound)
                let disks = try await Self.diskCount(server, "web-1")
                let add = try await WebUITests.request(client, .post, Self.web1 + "disks/", cookies: cookies,
                                                       form: ["csrf": csrf, "size": "2", "pool": "default"])
                #expect(add.status == .notFound)
                #expect(try await Self.diskCount(server, "web-1") == disks)
                let clone = try await WebUITests.request(client, .post, Self.web1 + "clone/", cookies: cookies,
                                                         form: ["csrf": csrf, "clone": "stolen"])
                #expect(clone.status == .notFound)
                #expect(try await Delegation.machine(client, "stolen") == nil)
                #expect(try await WebUITests.request(client, .get, Self.web1 + "export/", cookies: cookies).status == .notFound)
                // Their own machine answers; an admin's session still reaches everything.
                let own = try await Self.path(client, "build-box")
                #expect(try await client.call(.get, own + "state/", headers: session).status == .ok)
                let (adminCookies, _) = try await WebUITests.logIn(client)
                let adminState = try await client.call(.get, Self.web1 + "state/",
                                                       headers: [.cookie: "guesthouse_session=\(adminCookies["guesthouse_session"]!)"])
                #expect(adminState.status == .ok)

                let lines = try await AuditLogTests.lines(path, atLeast: 2)
                let refused = try #require(AuditLogTests.find(lines, "web", "POST /machines/:provider/:id/disks/", status: 404))
                #expect(refused["user"] as? String == Delegation.member)
            }
        }
    }

    @Test func aDiskPastTheQuotaIsRefusedBesideItsField() async throws {
        try await AuditLogTests.withFile { path in
            let server = try Delegation.server(audit: path, quota: UserQuota(diskGiB: 1))
            try await server.run { client in
                let (cookies, csrf) = try await WebUITests.logIn(client, as: Delegation.member)
                let own = try await Self.path(client, "build-box")
                let disks = try await Self.diskCount(server, "build-box")
                let add = try await WebUITests.request(client, .post, own + "disks/", cookies: cookies,
                                                       form: ["csrf": csrf, "size": "2", "pool": "default"])
                #expect(add.status == .forbidden)
                #expect(add.text.contains("quota exceeded: disk 0 of 1 GiB (2 GiB more asked)"))
                #expect(try await Self.diskCount(server, "build-box") == disks)
                let small = try await WebUITests.request(client, .post, own + "disks/", cookies: cookies,
                                                         form: ["csrf": csrf, "size": "1", "pool": "default"])
                #expect(small.status == .seeOther, "\(small.text)")
                #expect(try await Self.diskCount(server, "build-box") == disks + 1)
                // Growing that disk past the quota is refused too.
                let page = try await WebUITests.request(client, .get, own, cookies: cookies)
                let device = try #require(page.text.range(of: "<td data-label=\"Device\">").map {
                    String(page.text[$0.upperBound...].prefix { $0 != "<" })
                })
                let grow = try await WebUITests.request(client, .post, own + "disks/resize/", cookies: cookies,
                                                        form: ["csrf": csrf, "disk": device, "size": "2"])
                #expect(grow.status == .forbidden)
                #expect(grow.text.contains("quota exceeded: disk 1 of 1 GiB (1 GiB more asked)"))
                let after = try await WebUITests.request(client, .get, own, cookies: cookies)
                #expect(after.text.contains("<td data-label=\"Size\">1.0 GiB</td>"))
                let lines = try await AuditLogTests.lines(path, atLeast: 2)
                let refused = try #require(AuditLogTests.find(lines, "web", "POST /machines/:provider/:id/disks/", status: 403))
                #expect(refused["result"] as? String == "Forbidden: quota exceeded: disk 0 of 1 GiB (2 GiB more asked)")
            }
        }
    }

    @Test func aMemberSeesOnlyTheirContainersInThePages() async throws {
        try await AuditLogTests.withFile { path in
            let containers = MemoryContainers([(1, "admin"), (2, Delegation.member)])
            try await Delegation.server(audit: path).run(containers: containers) { client in
                let (cookies, csrf) = try await WebUITests.logIn(client, as: Delegation.member)
                let list = try await WebUITests.request(client, .get, "/containers/", cookies: cookies)
                #expect(list.text.contains(">container2<"))
                #expect(!list.text.contains(">container1<"))
                #expect(try await WebUITests.request(client, .get, "/containers/1/", cookies: cookies).status == .notFound)
                let state = try await client.call(.get, "/containers/1/state/",
                                                  headers: [.cookie: "guesthouse_session=\(cookies["guesthouse_session"]!)"])
                #expect(state.status == .notFound)
                let stop = try await WebUITests.request(client, .post, "/containers/1/stop/", cookies: cookies,
                                                        form: ["csrf": csrf, "confirm": "yes"])
                #expect(stop.status == .notFound)
                #expect(containers.snapshot()[1]?.state == .running)
                #expect(try await WebUITests.request(client, .get, "/containers/2/", cookies: cookies).status == .ok)
            }
        }
    }
}

/// The consoles go through the same gate: a member reaches only their own machine's console pages,
/// and the gate the websocket upgrade screen asks (outside the router, no request bound) refuses
/// another's machine and container with 404.
@Suite struct MemberConsoleTests {
    @Test func aMemberOpensOnlyTheirOwnMachinesConsoles() async throws {
        try await AuditLogTests.withFile { path in
            try await Delegation.server(audit: path).runWithConsoles { client in
                let (cookies, _) = try await WebUITests.logIn(client, as: Delegation.member)
                let session = try #require(cookies["guesthouse_session"])
                for kind in ["serial", "vnc"] {
                    let page = try await WebUITests.request(client, .get, "/machines/LOCAL1/web-1/console/\(kind)/", cookies: cookies)
                    #expect(page.status == .notFound)
                    let ownPage = try await WebUITests.request(client, .get, "/machines/LOCAL1/build-box/console/\(kind)/", cookies: cookies)
                    #expect(ownPage.status == .ok)
                    // The socket path without an upgrade: the gate's answer (426 once it lets the user in).
                    let headers: HTTPFields = [.cookie: "guesthouse_session=\(session)", .origin: "http://localhost"]
                    let other = try await client.execute(uri: "/machines/LOCAL1/web-1/console/\(kind)/ws", method: .get,
                                                         headers: headers) { $0.status }
                    #expect(other == .notFound)
                    let mine = try await client.execute(uri: "/machines/LOCAL1/build-box/console/\(kind)/ws", method: .get,
                                                        headers: headers) { $0.status }
                    #expect(mine == .upgradeRequired)
                }
            }
        }
    }

    @Test func theUpgradeScreensGateActsAsTheSessionsUser() async throws {
        let server = try Delegation.server(audit: "/dev/null")
        let machines = try LibvirtMachineProviders(config: server.config, pool: server.pool, executor: server.pool.executor,
                                                   logger: Logger(label: "test"), baseDirectory: "/", operationTimeout: 60)
        let containers = MemoryContainers([(1, "admin"), (2, Delegation.member)])
        let routes = consoleRoutes(config: server.config, authenticator: Authenticator(config: server.config),
                                   machines: machines, containers: containers)
        let codec = SessionCodec(secret: try #require(server.config.server.sessionSecret))
        func status(_ user: String, _ target: ConsoleTarget) async -> Int {
            #expect(RequestOrigin.current == nil)
            switch await routes.gate.authorize(cookie: "guesthouse_session=\(codec.encode(WebSession(user: user)))",
                                               origin: "http://h", authority: "h", target) {
            case .success: return 200
            case .failure(let refusal): return Int(refusal.status.code)
            }
        }
        #expect(await status(Delegation.member, .machine(kind: .serial, provider: "LOCAL1", id: "web-1")) == 404)
        #expect(await status(Delegation.member, .machine(kind: .vnc, provider: "LOCAL1", id: "build-box")) == 200)
        #expect(await status(Delegation.member, .container(id: 1)) == 404)
        #expect(await status(Delegation.member, .container(id: 2)) == 200)
        #expect(await status("admin", .machine(kind: .serial, provider: "LOCAL1", id: "web-1")) == 200)
        #expect(await status("admin", .container(id: 1)) == 200)
    }
}
