import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseServer
import HTTPTypes
import HummingbirdTesting
import Testing

/// A vmango server with an admin and a member (`ci`, the creator of the demo's `build-box`), a
/// web UI, an audit log file and an API token secret.
enum Delegation {
    static let member = "ci"
    static let secret = "delegation-test-secret-0123456789abcdef"
    static var memberAuth: HTTPFields { [.init("X-Vmango-User")!: member, .init("X-Vmango-Pass")!: TestServer.password] }
    static var memberSimplestack: HTTPFields {
        [.init("x-simplestack-hypervisor-token")!: Data("\(member):\(TestServer.password)".utf8).base64EncodedString()]
    }
    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    static func server(audit path: String, quota: UserQuota? = nil,
                       configure: (inout Config) -> Void = { _ in }) throws -> TestServer {
        try TestServer.vmango { config in
            config.server.auditLog = path
            config.server.sessionSecret = "test-secret-\(UUID().uuidString)"
            config.server.tokenSecret = secret
            config.users[member] = UserConfig(name: member, passwordHash: TestServer.passwordHash, role: .member, quota: quota)
            configure(&config)
        }
    }

    /// The names of LOCAL1's machines in a `/api/machines/` answer.
    static func names(_ json: Any?) -> [String] {
        ((object(json)["Machines"] as? [String: Any])?["LOCAL1"] as? [[String: Any]] ?? [])
            .compactMap { $0["Name"] as? String }.sorted()
    }

    /// A machine's JSON as the admin sees it (nil when it does not exist).
    static func machine(_ client: any TestClientProtocol, _ id: String) async throws -> [String: Any]? {
        let r = try await client.call(.get, "/api/machines/LOCAL1/\(id)/", headers: TestServer.vmangoAuth)
        return r.status == .ok ? object(object(r.json)["Machine"]) : nil
    }

    static func create(_ name: String, plan: String = "small") -> String {
        "Name=\(name)&Plan=\(plan)&Image=Debian-12_amd64_qcow2.img&Provider=LOCAL1"
    }
}

/// Containers in memory, with their creators: the ownership layer, not libvirt, is under test.
final class MemoryContainers: ContainerService, @unchecked Sendable {
    private let lock = NSLock()
    private var containers: [Int: Container] = [:]
    var vnis: [Int] { [2] }

    init(_ seed: [(Int, String?)]) {
        for (id, creator) in seed {
            var container = Container(id: id, name: "container\(id)", state: .running, memoryLimitBytes: 1 << 28)
            container.creator = creator
            containers[id] = container
        }
    }

    func snapshot() -> [Int: Container] { lock.withLock { containers } }

    func create(_ spec: ContainerSpec) async throws -> Container {
        try lock.withLock {
            guard containers[spec.id] == nil else { throw GuesthouseError.conflict("id \(spec.id) is in use") }
            var container = Container(id: spec.id, name: "container\(spec.id)", state: .running, memoryLimitBytes: 1 << 28)
            container.creator = spec.creator
            container.vlan = spec.vlan
            container.ip = spec.ip
            containers[spec.id] = container
            return container
        }
    }
    func runningIDs() async throws -> [Int] {
        lock.withLock { containers.values.filter { $0.state == .running }.map(\.id).sorted() }
    }
    func container(id: Int) async throws -> Container {
        guard let c = lock.withLock({ containers[id] }) else { throw GuesthouseError.notFound("container \(id) not found") }
        return c
    }
    func start(id: Int) async throws { try set(id, .running) }
    func stop(id: Int) async throws { try set(id, .stopped) }
    func delete(id: Int) async throws {
        try lock.withLock {
            guard containers.removeValue(forKey: id) != nil else { throw GuesthouseError.notFound("container \(id) not found") }
        }
    }
    func consoleLog(id: Int) async throws -> String { _ = try await container(id: id); return "console of \(id)" }

    private func set(_ id: Int, _ state: Container.State) throws {
        try lock.withLock {
            guard containers[id] != nil else { throw GuesthouseError.notFound("container \(id) not found") }
            containers[id]!.state = state
        }
    }
}
