import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseLibvirt
import Hummingbird
import HummingbirdTesting
import Libvirt
import NIOCore

extension TestServer {
    static let sshKeyTest = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGuesthouseTestKey test@guesthouse"
    static let sshKeyHome = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQHome home@guesthouse"
    static var vmangoAuth: HTTPFields { [.init("X-Vmango-User")!: "admin", .init("X-Vmango-Pass")!: password] }

    /// A server with one vmango provider, LOCAL1, on its own demo node (pools `images` and
    /// `default`, network `guesthouse` with DHCP range .100-.200), plans and two SSH keys.
    static func vmango(configure: (inout Config) -> Void = { _ in }) throws -> TestServer {
        var server = try TestServer()
        var local = HypervisorConfig(name: "LOCAL1", url: server.uri)
        local.imageStoragePool = "images"
        local.rootStoragePool = "default"
        local.network = "guesthouse"
        server.config.hypervisors["LOCAL1"] = local
        server.config.plans["small"] = PlanConfig(name: "small", memoryMiB: 512, cpus: 1, diskSizeGiB: 5)
        server.config.plans["huge"] = PlanConfig(name: "huge", memoryMiB: 4096, cpus: 4, diskSizeGiB: 100_000)
        server.config.sshKeys["test"] = SSHKeyConfig(name: "test", publicKey: sshKeyTest)
        server.config.sshKeys["home"] = SSHKeyConfig(name: "home", publicKey: sshKeyHome)
        configure(&server.config)
        return server
    }

    /// The server's own connection to its node (a separate connection would see a fresh fixture).
    func connection() async throws -> Connection {
        try await pool.connection(uri: uri)
    }

    /// Volume names of a pool and the static DHCP hosts of the demo network, as the server sees them.
    func leftovers(pool poolName: String = "default") async throws -> (volumes: [String], hosts: [String]) {
        let conn = try await connection()
        let volumes = try conn.storagePool(name: poolName).volumes().map(\.name).sorted()
        let plan = try DHCPPlan(networkXML: conn.network(name: "guesthouse").xml(), network: "guesthouse")
        // The demo's own static entries are not leftovers.
        let demo = Set(EmbeddedDefault.demoGuests.map(\.name))
        return (volumes, plan.hosts.map(\.name).filter { !demo.contains($0) }.sorted())
    }
}

extension TestClientProtocol {
    /// Posts a form (`application/x-www-form-urlencoded`) with vmango credentials.
    func form(_ uri: String, _ body: String, headers: HTTPFields = TestServer.vmangoAuth)
        async throws -> (status: HTTPResponse.Status, headers: HTTPFields, json: Any?, text: String) {
        var headers = headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            let text = String(buffer: response.body)
            let parsed = text.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(text.utf8))
            return (response.status, response.headers, parsed, text)
        }
    }

    /// A vmango `{"Error": ...}` text.
    func vmangoError(_ json: Any?) -> String { object(json)["Error"] as? String ?? "" }
}
