#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GuesthouseConfig
import GuesthouseTestSupport
import Hummingbird
import Libvirt
import Testing

/// Remote hosts for real: a second libvirtd over TCP with SASL, and the system libvirtd reached over
/// `qemu+ssh://` through an sshd on loopback, both started by the test and gone afterwards.
@Suite(.serialized) struct RemoteHostTests {
    static let isRoot = getuid() == 0
    static let haveSASL = FileManager.default.isExecutableFile(atPath: "/usr/sbin/saslpasswd2")
    static let haveSSHD = FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd")

    /// The system libvirtd everyone shares answers (checked with virsh, before and after).
    static func expectSystemLibvirtdHealthy(sourceLocation: SourceLocation = #_sourceLocation) {
        let output = try? Daemon.run("/usr/bin/virsh", ["-c", "qemu:///system", "list", "--all"])
        #expect(output?.contains("Name") == true, "the system libvirtd does not answer", sourceLocation: sourceLocation)
    }

    static func token(_ user: String, _ password: String) -> HTTPFields {
        [.init("x-simplestack-hypervisor-token")!: Data("\(user):\(password)".utf8).base64EncodedString()]
    }

    /// A libvirt auth file with the daemon's user and `password` (its own by default).
    static func authFile(_ daemon: SASLLibvirtd, password: String? = nil) throws -> String {
        let path = "\(daemon.directory)/auth-\(password == nil ? "good" : "other").conf"
        try """
            [credentials-gh]
            authname=\(daemon.user)
            username=\(daemon.user)
            password=\(password ?? daemon.password)
            [auth-libvirt-127.0.0.1]
            credentials=gh

            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// virsh on the test daemon with the user's password from an auth file: a second, independent client.
    static func virsh(_ daemon: SASLLibvirtd, _ arguments: [String]) throws -> String {
        let auth = try authFile(daemon)
        return try Daemon.run("/usr/bin/env", ["LIBVIRT_AUTH_FILE=\(auth)", "/usr/bin/virsh", "-c", daemon.uri] + arguments)
    }

    @Test(.enabled(if: isRoot && haveSASL))
    func aSASLHostOverTCPServesTheRoutesAndChecksItsOwnCredentials() async throws {
        Self.expectSystemLibvirtdHealthy()
        let daemon = try SASLLibvirtd()
        defer {
            daemon.stop()
            Self.expectSystemLibvirtdHealthy()
        }
        let connectTimeout = 10.0  // generous: SASL handshakes under a loaded CI machine take seconds
        // vmango providers have no request credentials to pass: theirs come from libvirt's auth file.
        let goodAuth = try Self.authFile(daemon), badAuth = try Self.authFile(daemon, password: "wrong")
        let server = try TestServer(connectTimeout: connectTimeout) { config in
            config.families["test"]?.uri = "test+tcp://{host}:\(daemon.port)/default"
            config.simplestack.hosts = ["localhost", "127.0.0.1"]
            config.hypervisors["SASL"] = HypervisorConfig(name: "SASL", url: daemon.uri + "?authfile=" + goodAuth)
            config.hypervisors["REFUSED"] = HypervisorConfig(name: "REFUSED", url: daemon.uri + "?authfile=" + badAuth)
        }
        let good = Self.token(daemon.user, daemon.password)
        let bad = Self.token(daemon.user, "wrong-" + daemon.password)
        let base = "/test/127.0.0.1"
        try await server.run { client in
            // No credentials at all, and a wrong password before any connection exists.
            #expect(try await client.call(.get, base + "/guests", headers: [:]).status == .unauthorized)
            let first = try await client.call(.get, base + "/guests", headers: bad)
            #expect(first.status == .unauthorized, "\(first.text)")
            #expect(object(first.json)["error"] as? String == "Unauthorized")

            let pool = try await client.call(.get, base, headers: good)
            #expect(pool.status == .ok, "\(pool.text)")
            #expect((object(pool.json)["total_memory"] as? Int ?? 0) > 0)
            let guests = try await client.call(.get, base + "/guests", headers: good)
            #expect(guests.status == .ok, "\(guests.text)")
            let test = try #require(list(guests.json).first { $0["name"] as? String == "test" })
            let testID = try #require(test["id"] as? String)
            #expect(try await client.call(.get, base + "/guests/\(testID)", headers: good).status == .ok)

            // Right after a correct password (its connection open, its guest just read), a wrong one
            // is refused every time, for every route.
            // The guest's info first: it was read (and may be kept) just now.
            for path in [base + "/guests/\(testID)", base, base + "/guests", base + "/guests/\(testID)", base + "/guests"] {
                let r = try await client.call(.get, path, headers: bad)
                #expect(r.status == .unauthorized, "\(path): \(r.status) \(r.text)")
            }

            // A vmango provider on the SASL host: its machines listed; one with a wrong password, an error.
            let machines = try await client.call(.get, "/api/machines/", headers: TestServer.vmangoAuth)
            #expect(machines.status == .ok, "\(machines.text)")
            let listed = (object(machines.json)["Machines"] as? [String: Any])?["SASL"] as? [[String: Any]] ?? []
            #expect(listed.contains { $0["Name"] as? String == "test" }, "\(machines.text)")
            #expect(object(object(machines.json)["Errors"])["REFUSED"] != nil, "\(machines.text)")

            // A guest made and removed on the remote host, seen by virsh there.
            let name = "ghremote-" + UUID().uuidString.prefix(8).lowercased()
            let created = try await client.call(.post, base + "/guests", json: #"{"name": "\#(name)", "memory": 64, "cpus": 1}"#,
                                                headers: good)
            #expect(created.status == .created, "\(created.text)")
            #expect(try Self.virsh(daemon, ["list", "--all", "--name"]).split(separator: "\n").contains { $0 == name })
            let id = try #require(object(created.json)["id"] as? String)
            #expect(try await client.call(.put, base + "/guests/\(id)/power", json: #"{"state": "start"}"#,
                                          headers: bad).status == .unauthorized)
            #expect(try Self.virsh(daemon, ["domstate", name]).contains("shut off"))
            let deleted = try await client.call(.delete, base + "/guests/\(id)", headers: good)
            #expect(deleted.status == .noContent, "\(deleted.text)")
            #expect(!(try Self.virsh(daemon, ["list", "--all", "--name"]).split(separator: "\n").contains { $0 == name }))

            // The host goes away: 502, within the connect timeout, every time.
            daemon.kill()
            for _ in 0..<2 {
                let started = ContinuousClock.now
                let gone = try await client.call(.get, base + "/guests", headers: good)
                #expect(gone.status == .badGateway, "\(gone.text)")
                #expect(object(gone.json)["error"] as? String == "HypervisorError")
                #expect(ContinuousClock.now - started < .seconds(connectTimeout + 1))
            }
        }
    }

    /// The private daemon is killed and started again (its test driver back at its fixture, so a guest
    /// defined before is gone): the server's view of the host is rebuilt, the vanished guest is no
    /// longer listed, and the event stream says `reconnected` and goes on delivering events.
    @Test(.enabled(if: isRoot && haveSASL))
    func afterTheDaemonRestartsTheViewIsRebuiltAndTheStreamGoesOn() async throws {
        Self.expectSystemLibvirtdHealthy()
        let daemon = try SASLLibvirtd()
        defer {
            daemon.stop()
            Self.expectSystemLibvirtdHealthy()
        }
        let server = try TestServer(connectTimeout: 10) { config in
            config.families["test"]?.uri = "test+tcp://{host}:\(daemon.port)/default"
            config.simplestack.hosts = ["127.0.0.1"]
        }
        let good = Self.token(daemon.user, daemon.password)
        let streamAuth = [("x-simplestack-hypervisor-token", Data("\(daemon.user):\(daemon.password)".utf8).base64EncodedString())]
        let base = "/test/127.0.0.1"
        let tag = UUID().uuidString.prefix(8).lowercased()
        let doomed = "ghrestart-\(tag)", later = "ghlater-\(tag)"
        try await server.run(eventHeartbeat: .milliseconds(200)) { client in
            let port = try #require(client.port)
            let created = try await client.call(.post, base + "/guests", json: #"{"name": "\#(doomed)", "memory": 64, "cpus": 1}"#,
                                                headers: good)
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(object(created.json)["id"] as? String)
            let before = list(try await client.call(.get, base + "/guests", headers: good).json).compactMap { $0["name"] as? String }
            #expect(Set(before) == ["test", doomed], "\(before)")
            let stream = try await EventStreamClient.open(port: port, path: base + "/events", headers: streamAuth)
            defer { stream.close() }
            #expect(stream.status == 200)

            daemon.kill()
            try daemon.restart()
            // The daemon's own state after the restart, read by virsh: its fixture, without the guest.
            #expect(try Self.virsh(daemon, ["list", "--all", "--name"]).split(separator: "\n").map(String.init) == ["test"])

            // Reopened in the background (once a second while someone listens), then rebuilt.
            _ = try await stream.event(within: .seconds(20), "reconnected") { $0["type"] == "host" && $0["action"] == "reconnected" }
            let deleted = try await stream.event(within: .seconds(1), "\(doomed) deleted") { $0["id"] == id }
            #expect(deleted["action"] == "deleted" && deleted["name"] == doomed, "\(deleted)")
            let after = try await client.call(.get, base + "/guests", headers: good)
            #expect(after.status == .ok, "\(after.text)")
            #expect(list(after.json).compactMap { $0["name"] as? String } == ["test"], "\(after.text)")
            #expect(try await client.call(.get, base + "/guests/\(id)", headers: good).status == .notFound)

            // The stream goes on: a guest defined by another client of the restarted daemon arrives
            // on it and is listed; so do heartbeats.
            let xml = "\(daemon.directory)/\(later).xml"
            try "<domain type='test'><name>\(later)</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>"
                .write(toFile: xml, atomically: true, encoding: .utf8)
            _ = try Self.virsh(daemon, ["define", xml])
            let defined = try await stream.event(within: .seconds(2), "\(later) defined") { $0["name"] == later }
            #expect(defined["action"] == "defined", "\(defined)")
            let names = list(try await client.call(.get, base + "/guests", headers: good).json).compactMap { $0["name"] as? String }
            #expect(Set(names) == ["test", later], "\(names)")
            let beats = await stream.comments().count
            let deadline = ContinuousClock.now + .seconds(2)
            while await stream.comments().count == beats, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))  // polling with a deadline
            }
            #expect(await stream.comments().count > beats, "no heartbeat after the reconnect")
            #expect(await !stream.isClosed())
        }
    }

    @Test(.enabled(if: isRoot && haveSSHD))
    func aQemuHostOverSSHServesSimplestackAndVmango() async throws {
        Self.expectSystemLibvirtdHealthy()
        let sshd = try LoopbackSSHD()
        let prefix = "ghssh-" + UUID().uuidString.prefix(8).lowercased()
        let scratch = try ScratchProvider.make(prefix: prefix)
        defer {
            scratch.tearDown()
            sshd.stop()
            Self.expectSystemLibvirtdHealthy()
        }
        try scratch.addImage(name: "Tiny-1_amd64_raw.img", bytes: 1 << 20)
        let remote = sshd.qemuTemplate.replacingOccurrences(of: "{host}", with: "127.0.0.1")
        var server = try TestServer.vmango { config in
            var kvm = FamilyConfig()
            kvm.uri = sshd.qemuTemplate
            kvm.domainType = "qemu"
            config.families["kvm"] = kvm
            config.simplestack.hosts = ["127.0.0.1"]
        }
        var provider = scratch.hypervisorConfig(name: "REMOTE")
        provider.url = remote
        server.config.hypervisors = ["REMOTE": provider]
        server.config.plans["tiny"] = PlanConfig(name: "tiny", memoryMiB: 64, cpus: 1, diskSizeGiB: 1)
        let base = "/kvm/127.0.0.1"
        try await server.run(.router, operationTimeout: 300) { client in
            // Simplestack: the kvm family's ssh template, checked against the server's own users.
            let pool = try await client.call(.get, base)
            #expect(pool.status == .ok, "\(pool.text)")
            #expect((object(object(pool.json)["software_info"])["hypervisor"] as? String)?.isEmpty == false, "\(pool.text)")
            #expect(try await client.call(.get, base + "/guests", headers: Self.token("admin", "wrong")).status == .unauthorized)
            let name = prefix + "-guest"
            let created = try await client.call(.post, base + "/guests", json: #"{"name": "\#(name)", "memory": 64, "cpus": 1}"#)
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(object(created.json)["id"] as? String)
            let guests = try await client.call(.get, base + "/guests")
            #expect(list(guests.json).contains { $0["name"] as? String == name }, "\(guests.text)")
            // Seen by virsh on the local socket: the ssh host is this machine's libvirtd.
            #expect(try Daemon.run("/usr/bin/virsh", ["-c", "qemu:///system", "domstate", name]).contains("shut off"))
            #expect(try await client.call(.delete, base + "/guests/\(id)").status == .noContent)
            #expect((try? Daemon.run("/usr/bin/virsh", ["-c", "qemu:///system", "domstate", name])) == nil)

            // vmango: a provider on the same ssh URI, its image listed, a machine made and removed.
            let images = try await client.call(.get, "/api/images/", headers: TestServer.vmangoAuth)
            let listed = (object(images.json)["Images"] as? [String: Any])?["REMOTE"] as? [[String: Any]] ?? []
            #expect(listed.contains { $0["Id"] as? String == "Tiny-1_amd64_raw.img" }, "\(images.text)")
            let machine = prefix + "-vm"
            let made = try await client.form("/api/machines/", "Name=\(machine)&Plan=tiny&Image=Tiny-1_amd64_raw.img&SSHKey=test&Provider=REMOTE")
            #expect(made.status == .created, "\(made.text)")
            let location = try #require(made.headers[.location])
            #expect(try scratch.leftovers().volumes == ["\(machine)_config.iso", "\(machine)_disk"])
            #expect(try await client.call(.delete, location, headers: TestServer.vmangoAuth).status == .noContent)
            let after = try scratch.leftovers()
            #expect(after.volumes.isEmpty && after.hosts.isEmpty, "\(after)")

            // The host goes away (sshd and its sessions ended): 502 within the connect timeout.
            sshd.stop()
            let started = ContinuousClock.now
            let gone = try await client.call(.get, base + "/guests")
            #expect(gone.status == .badGateway, "\(gone.text)")
            #expect(ContinuousClock.now - started < .seconds(11))
        }
    }
}
