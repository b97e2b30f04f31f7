import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseLibvirt
import GuesthouseServer
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import Libvirt
import Logging
import NIOCore
import GuesthouseVmango
import GuesthouseTestSupport

/// One server under test: its own connection pool (so its own test-driver state) over real HTTP.
struct TestServer {
    static let password = "pa:ss word"
    static let passwordHash = Bcrypt.hash(password, cost: 4)
    static let token = Data("admin:\(password)".utf8).base64EncodedString()
    static var auth: HTTPFields { [.init("x-simplestack-hypervisor-token")!: token] }

    var config: Config
    let pool: ConnectionPool
    /// This server's Prometheus registry (`/metrics`).
    let metrics = ServerMetrics()
    /// The test-driver URI of this server's demo node.
    let uri: String

    /// A server whose `test` family serves the demo node written to a fresh file.
    init(extraGuests: Int = 0, connectTimeout: Double = 10,
         configure: (inout Config) -> Void = { _ in }) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gh-test-\(UUID().uuidString)")
        let uri = try EmbeddedDefault.write(to: directory, extraGuests: extraGuests)
        self.uri = uri
        var config = Config()
        var test = FamilyConfig()
        test.localURI = uri
        config.families["test"] = test
        config.users["admin"] = UserConfig(name: "admin", passwordHash: Self.passwordHash)
        configure(&config)
        self.config = config
        TestEventLoop.start()
        pool = ConnectionPool.standalone(connectTimeout: connectTimeout, metrics: metrics.factory)
        metrics.addCollector { [pool] in pool.collectMetrics($0) }
    }

    /// Runs `body` with a live HTTP client against this server. `.router` skips the socket and the
    /// live client's fixed 20 s read timeout, for real hypervisors whose operations can take longer.
    func run(_ setup: TestingSetup = .live, operationTimeout: Double = 60, eventHeartbeat: Duration = .milliseconds(250),
             containers: (any ContainerService)? = nil,
             _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let directory = LibvirtDirectory(config: config, pool: pool, executor: pool.executor, operationTimeout: operationTimeout)
        let authenticator = Authenticator(config: config)
        let machines = try LibvirtMachineProviders(config: config, pool: pool, executor: pool.executor,
                                                   logger: Logger(label: "test"), baseDirectory: "/",
                                                   operationTimeout: operationTimeout)
        let audit = try AuditLog(path: config.server.auditLog, logger: Logger(label: "test.audit"))
        let (router, _) = buildRouter(config: config, directory: directory, authenticator: authenticator,
                                      machines: machines, containers: containers, eventHeartbeat: eventHeartbeat,
                                      metrics: metrics, audit: audit)
        let app = Application(router: router)
        try await app.test(setup, body)
    }
}

extension TestClientProtocol {
    /// Sends a request and returns status, headers and the body parsed as JSON (nil when empty).
    func call(_ method: HTTPRequest.Method, _ uri: String, json: String? = nil, headers: HTTPFields = TestServer.auth)
        async throws -> (status: HTTPResponse.Status, headers: HTTPFields, json: Any?, text: String) {
        var headers = headers
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers,
                                 body: json.map { ByteBuffer(string: $0) }) { response in
            let text = String(buffer: response.body)
            let parsed = text.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            return (response.status, response.headers, parsed, text)
        }
    }
}

/// The JSON object of a response, or an empty one.
func object(_ json: Any?) -> [String: Any] { json as? [String: Any] ?? [:] }
/// The JSON list of a response, or an empty one.
func list(_ json: Any?) -> [[String: Any]] { json as? [[String: Any]] ?? [] }

/// libvirt's event loop for the tests of this target: started once, runs while the tests run
/// (the server's views follow libvirt's events on it).
enum TestEventLoop {
    private static let loop = LibvirtEventLoop()
    static func start() { loop.start() }
}
