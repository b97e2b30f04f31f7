import Foundation
import GuesthouseConfig
import GuesthouseContainers
import GuesthouseCore
import GuesthouseLibvirt
import GuesthouseServer
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import Libvirt
import NIOCore
import GuesthouseTestSupport

/// A server with the container API over real libvirt-LXC, in a scratch directory (its own base and
/// layers). `close()` removes every container it may have made (`container<id>` for its ids), their
/// layers and the directory, even after a failure.
final class ContainerHarness: @unchecked Sendable {
    static let password = "ct pass:word"
    static let passwordHash = Bcrypt.hash(password, cost: 4)
    static var auth: HTTPFields { [.authorization: "Basic " + Data("admin:\(password)".utf8).base64EncodedString()] }

    let work: String
    let config: Config
    let service: LibvirtContainerService
    /// The one pool this "server" reaches libvirt through.
    let pool = ConnectionPool.standalone()
    /// The ids the test uses; all removed at `close()`.
    let ids: [Int]
    /// Bridges this harness made (when not given an overlay).
    private var bridges: [String] = []

    /// - Parameters:
    ///   - bridgeFor: bridge name template of the VNIs.
    ///   - makeBridges: VNIs whose bridge the harness makes itself (plain bridges, no address).
    init(ids: [Int], vnis: [Int], bridge: String, makeBridges: [Int] = [], overlay: OverlayConfig? = nil) throws {
        work = "/var/tmp/gh-ct-\(UUID().uuidString.prefix(8))"
        var containers = ContainersConfig()
        containers.vnis = vnis
        containers.bridge = bridge
        containers.rootfs = "\(work)/base"
        containers.layers = "\(work)/layers"
        containers.memoryMiB = 64
        var config = Config()
        config.users["admin"] = UserConfig(name: "admin", passwordHash: Self.passwordHash)
        config.containers = containers
        config.overlay = overlay
        self.config = config
        self.ids = ids
        Libvirt.initialize()
        ContainerEventLoop.start()
        service = LibvirtContainerService(config: containers, overlay: overlay, pool: pool,
                                          executor: pool.executor, stopTimeout: .seconds(5))
        for vni in makeBridges {
            let name = containers.bridgeName(vni: vni)
            guard !hostHasLink(name) else { throw LabError("\(name) exists on the host; not touching it") }
            try host.run("ip", ["link", "add", name, "type", "bridge"])
            bridges.append(name)
            try host.run("ip", ["link", "set", name, "up"])
        }
        removeContainers()
    }

    /// Runs `body` with an HTTP client against the router.
    func run(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let directory = LibvirtDirectory(config: config, pool: pool, executor: pool.executor)
        let (router, _) = buildRouter(config: config, directory: directory,
                                      authenticator: Authenticator(users: config.users), containers: service)
        try await Application(router: router).test(.router, body)
    }

    func removeContainers() {
        for id in ids {
            let name = "container\(id)"
            succeeds("virsh", ["-q", "-c", "lxc:///system", "destroy", name])
            succeeds("virsh", ["-q", "-c", "lxc:///system", "undefine", name])
            let rootfs = "\(work)/layers/\(name)/rootfs"
            if FileManager.default.fileExists(atPath: rootfs) { succeeds("umount", ["-l", rootfs]) }
        }
    }

    func close() {
        removeContainers()
        for bridge in bridges { succeeds("ip", ["link", "del", "dev", bridge]) }
        try? FileManager.default.removeItem(atPath: work)
    }

    func layerDirectory(_ id: Int) -> String { "\(work)/layers/container\(id)" }

    /// The pid of a running container's init (the child of its libvirt_lxc controller).
    func initPID(_ id: Int) throws -> Int32 { try lxcInitPID("container\(id)") }
}

/// libvirt's event loop for this target's tests: the containers' host view follows libvirt's events on it.
enum ContainerEventLoop {
    private static let loop = LibvirtEventLoop()
    static func start() { loop.start() }
}

extension TestClientProtocol {
    /// Sends a request; returns the status and the body as a JSON object (empty when not one).
    func send(_ method: HTTPRequest.Method, _ uri: String, form: String? = nil, json: String? = nil,
              headers: HTTPFields = ContainerHarness.auth) async throws -> (status: HTTPResponse.Status, body: [String: Any], text: String) {
        var headers = headers
        if form != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers,
                                 body: (form ?? json).map { ByteBuffer(string: $0) }) { response in
            let text = String(buffer: response.body)
            let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            return (response.status, object, text)
        }
    }
}
