import Foundation
import GuesthouseConfig
import GuesthouseLibvirt
import GuesthouseServer
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import Libvirt
import NIOCore
import GuesthouseTestSupport

/// Builds the server around the libvirt test driver (a fresh node per call) or qemu:///system,
/// and speaks to it over HTTP, for the Simplestack surface tests.
enum SurfaceHarness {
    static let token = Data("admin:pw".utf8).base64EncodedString()
    static let passwordHash = Bcrypt.hash("pw", cost: 4)

    /// A test-driver node: guest1 (running, one virtio disk, one NIC on "isolated"), the network
    /// "isolated" (no forward), and the pool "pool" holding guest1's disk and "install.iso".
    static let nodeXML = """
    <node>
      <domain type='test'>
        <name>guest1</name>
        <uuid>11111111-2222-3333-4444-555555555555</uuid>
        <memory unit='MiB'>512</memory>
        <vcpu>1</vcpu>
        <os><type arch='x86_64'>hvm</type></os>
        <devices>
          <disk type='file' device='disk'>
            <source file='/pool/guest1-disk0.qcow2'/>
            <target dev='vda' bus='virtio'/>
          </disk>
          <interface type='network'>
            <mac address='52:54:00:aa:bb:01'/>
            <source network='isolated'/>
            <model type='virtio'/>
          </interface>
        </devices>
      </domain>
      <network>
        <name>isolated</name>
        <uuid>aaaaaaaa-2222-3333-4444-555555555555</uuid>
        <bridge name='ghtest0'/>
      </network>
      <pool type='dir'>
        <name>pool</name>
        <uuid>bbbbbbbb-2222-3333-4444-555555555555</uuid>
        <target><path>/pool</path></target>
        <volume type='file'>
          <name>guest1-disk0.qcow2</name>
          <capacity unit='GiB'>2</capacity>
          <target><path>/pool/guest1-disk0.qcow2</path><format type='qcow2'/></target>
        </volume>
        <volume type='file'>
          <name>install.iso</name>
          <capacity unit='MiB'>10</capacity>
          <target><path>/pool/install.iso</path><format type='raw'/></target>
        </volume>
      </pool>
    </node>
    """

    /// Runs `body` against a server whose `test` family is a fresh test-driver node.
    static func withTestDriver(_ body: @escaping @Sendable (SurfaceClient) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gh-surface-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("node.xml")
        try nodeXML.write(to: file, atomically: true, encoding: .utf8)
        var family = FamilyConfig()
        family.localURI = "test://" + file.path
        try await withServer(families: ["test": family], body)
    }

    /// Runs `body` against a server whose `kvm` family is qemu:///system with domain type qemu.
    static func withQemu(_ setup: TestingSetup = .router,
                         _ body: @escaping @Sendable (SurfaceClient) async throws -> Void) async throws {
        var family = FamilyConfig()
        family.domainType = "qemu"
        try await withServer(families: ["kvm": family], setup: setup, body)
    }

    static func withServer(families: [String: FamilyConfig], setup: TestingSetup = .router,
                           _ body: @escaping @Sendable (SurfaceClient) async throws -> Void) async throws {
        var config = Config()
        config.users["admin"] = UserConfig(name: "admin", passwordHash: passwordHash)
        config.families = families
        TestEventLoop.start()
        // Volume downloads run in helper processes, as in `guesthouse serve`.
        let pool = ConnectionPool.standalone(downloadHelper: VolumeDownloadHelper(executable: CommandResult.guesthouse))
        let executor = pool.executor
        // qemu:///system defines take half a minute on a loaded host.
        let directory = LibvirtDirectory(config: config, pool: pool, executor: executor, operationTimeout: 600)
        let (router, _) = buildRouter(config: config, directory: directory,
                                      authenticator: Authenticator(users: config.users))
        let app = Application(router: router)
        try await app.test(setup) { client in
            try await body(SurfaceClient(client: client))
        }
    }
}

/// One HTTP exchange's outcome.
struct SurfaceResponse: Sendable {
    var status: Int
    var headers: HTTPFields
    var body: Data

    /// The body as JSON (object, array, ...).
    var json: Any? { try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var array: [Any] { json as? [Any] ?? [] }
    var text: String { String(decoding: body, as: UTF8.self) }
    var location: String? { headers[.location] }
    var errorClass: String? { object["error"] as? String }
}

/// Sends authenticated JSON requests.
struct SurfaceClient: Sendable {
    let client: any TestClientProtocol

    func send(_ method: HTTPRequest.Method, _ path: String, json: String? = nil,
              bytes: Data? = nil, headers extra: HTTPFields = [:]) async throws -> SurfaceResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        headers[.init("x-simplestack-hypervisor-token")!] = SurfaceHarness.token
        let body: ByteBuffer? = bytes.map { ByteBuffer(bytes: $0) } ?? json.map { ByteBuffer(string: $0) }
        return try await client.execute(uri: path, method: method, headers: headers, body: body) { response in
            SurfaceResponse(status: Int(response.status.code), headers: response.headers,
                            body: Data(buffer: response.body))
        }
    }

    func get(_ path: String) async throws -> SurfaceResponse { try await send(.get, path) }
    func post(_ path: String, _ json: String) async throws -> SurfaceResponse { try await send(.post, path, json: json) }
    func put(_ path: String, _ json: String) async throws -> SurfaceResponse { try await send(.put, path, json: json) }
    func delete(_ path: String) async throws -> SurfaceResponse { try await send(.delete, path) }
}
