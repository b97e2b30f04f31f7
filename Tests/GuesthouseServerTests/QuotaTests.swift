import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// `[user.NAME.quota]`: counted from libvirt (the machines whose Creator is the user), checked on
/// create through the API and the web form, refused with 403 naming the limit and the use, and
/// never passed by two creates at once. The member `ci` already owns the demo's `build-box`
/// (1 CPU, 512 MiB).
@Suite struct QuotaTests {
    @Test func createsUpToTheLimitAndNotPast() async throws {
        try await AuditLogTests.withFile { path in
            try await Delegation.server(audit: path, quota: UserQuota(machines: 2)).run { client in
                let first = try await client.form("/api/machines/", Delegation.create("ci-1"), headers: Delegation.memberAuth)
                #expect(first.status == .created, "\(first.text)")
                let second = try await client.form("/api/machines/", Delegation.create("ci-2"), headers: Delegation.memberAuth)
                #expect(second.status == .forbidden)
                #expect(second.json as? [String: String] == ["Error": "quota exceeded: machines 2 of 2"])
                let mine = try await client.call(.get, "/api/machines/", headers: Delegation.memberAuth)
                #expect(Delegation.names(mine.json) == ["build-box", "ci-1"])
                #expect(try await Delegation.machine(client, "ci-2") == nil)
                // The admin has no quota.
                let admin = try await client.form("/api/machines/", Delegation.create("admin-1"))
                #expect(admin.status == .created)
                // Deleting one frees its slot.
                #expect(try await client.call(.delete, "/api/machines/LOCAL1/ci-1/", headers: Delegation.memberAuth).status == .noContent)
                let again = try await client.form("/api/machines/", Delegation.create("ci-2"), headers: Delegation.memberAuth)
                #expect(again.status == .created, "\(again.text)")

                let lines = try await AuditLogTests.lines(path, atLeast: 5)
                let refused = try #require(AuditLogTests.find(lines, "vmango", "POST /api/machines/", status: 403))
                #expect(refused["user"] as? String == Delegation.member)
                #expect(refused["result"] as? String == "Forbidden: quota exceeded: machines 2 of 2")
            }
        }
    }

    @Test func cpusMemoryAndDiskAreCountedAndNamed() async throws {
        try await AuditLogTests.withFile { path in
            try await Delegation.server(audit: path, quota: UserQuota(cpus: 2, memoryMiB: 1024, diskGiB: 1000)).run { client in
                let cpus = try await client.form("/api/machines/", Delegation.create("big", plan: "huge"), headers: Delegation.memberAuth)
                #expect(cpus.status == .forbidden)
                #expect(client.vmangoError(cpus.json) == "quota exceeded: cpus 1 of 2 (4 more asked)")
                let ok = try await client.form("/api/machines/", Delegation.create("small-1"), headers: Delegation.memberAuth)
                #expect(ok.status == .created, "\(ok.text)")
                let memory = try await client.form("/api/machines/", Delegation.create("small-2"), headers: Delegation.memberAuth)
                #expect(memory.status == .forbidden)
                #expect(client.vmangoError(memory.json) == "quota exceeded: cpus 2 of 2 (1 more asked)")
            }
        }
    }

    @Test func twoConcurrentCreatesCannotBothTakeTheLastSlot() async throws {
        try await AuditLogTests.withFile { path in
            try await Delegation.server(audit: path, quota: UserQuota(machines: 2)).run { client in
                async let a = client.form("/api/machines/", Delegation.create("race-a"), headers: Delegation.memberAuth)
                async let b = client.form("/api/machines/", Delegation.create("race-b"), headers: Delegation.memberAuth)
                let statuses = [try await a.status, try await b.status]
                #expect(statuses.filter { $0 == .created }.count == 1)
                #expect(statuses.filter { $0 == .forbidden }.count == 1)
                let mine = try await client.call(.get, "/api/machines/", headers: Delegation.memberAuth)
                let names = Delegation.names(mine.json)
                #expect(names.count == 2)
                #expect(names.filter { $0.hasPrefix("race-") }.count == 1)
            }
        }
    }

    @Test func theWebFormShowsTheQuotaAndItsRefusal() async throws {
        try await AuditLogTests.withFile { path in
            try await Delegation.server(audit: path, quota: UserQuota(machines: 1)).run { client in
                let (cookies, csrf) = try await WebUITests.logIn(client, as: Delegation.member)
                let form = try await WebUITests.request(client, .get, "/machines/add/", cookies: cookies)
                #expect(form.text.contains("Your quota: machines 1 of 1"))
                let refused = try await WebUITests.request(client, .post, "/machines/add/", cookies: cookies, form: [
                    "csrf": csrf, "Name": "web-q", "Plan": "small", "Image": "Debian-12_amd64_qcow2.img", "Provider": "LOCAL1",
                ])
                #expect(refused.status == .forbidden)
                #expect(refused.text.contains("quota exceeded: machines 1 of 1"))
                #expect(refused.text.contains("name=\"Name\" value=\"web-q\""))
                #expect(try await Delegation.machine(client, "web-q") == nil)
                let lines = try await AuditLogTests.lines(path, atLeast: 2)
                let line = try #require(AuditLogTests.find(lines, "web", "POST /machines/add/", status: 403))
                #expect(line["user"] as? String == Delegation.member)
                #expect(line["result"] as? String == "Forbidden: quota exceeded: machines 1 of 1")
            }
        }
    }

    @Test func refusalTextNamesTheFirstLimitPassed() {
        let quota = UserQuota(machines: 5, cpus: 4, memoryMiB: 2048, diskGiB: 20)
        let used = QuotaUsage(machines: 1, cpus: 2, memoryMiB: 1024, diskGiB: 10)
        #expect(QuotaGate.refusal(quota, used: used, adding: QuotaUsage(machines: 1, cpus: 2, memoryMiB: 1024, diskGiB: 10)) == nil)
        #expect(QuotaGate.refusal(quota, used: used, adding: QuotaUsage(machines: 1, cpus: 1, memoryMiB: 1025, diskGiB: 1))
                == "quota exceeded: memory 1024 of 2048 MiB (1025 MiB more asked)")
        #expect(QuotaGate.refusal(quota, used: used, adding: QuotaUsage(diskGiB: 11))
                == "quota exceeded: disk 10 of 20 GiB (11 GiB more asked)")
        // A change that adds nothing (e.g. a shrink) passes even past a limit.
        #expect(QuotaGate.refusal(UserQuota(machines: 0), used: used, adding: QuotaUsage()) == nil)
    }
}

/// Machines in memory whose create holds until a second quota count has been made (or a deadline
/// passes): without the per-user lock both creates would count before either made its machine.
final class RacingProviders: MachineProviders, @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Machine] = []
    private var counts = 0
    var providerNames: [String] { ["P"] }

    var created: [Machine] { lock.withLock { list } }

    func machines(provider: String) async throws -> [Machine] {
        lock.withLock {
            counts += 1
            return list
        }
    }
    func machine(provider: String, id: String) async throws -> Machine { throw GuesthouseError.notFound(id) }
    func images(provider: String) async throws -> [MachineImage] { [] }
    func create(provider: String, _ request: MachineRequest) async throws -> Machine {
        let deadline = ContinuousClock.now + .milliseconds(500)
        while lock.withLock({ counts }) < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        let machine = Machine(id: request.name, name: request.name, creator: request.creator, cpus: request.plan.cpus)
        lock.withLock { list.append(machine) }
        return machine
    }
    func delete(provider: String, id: String) async throws {}
    func perform(_ action: MachineAction, provider: String, id: String) async throws {}
    func status(provider: String) async throws -> ProviderStatus { throw GuesthouseError.notFound(provider) }
}

@Suite struct QuotaGateTests {
    @Test func theCheckAndTheCreateAreOneStepPerUser() async throws {
        let providers = RacingProviders()
        let gate = QuotaGate(providers: providers)
        let principal = Principal(user: "ci", role: .member, quota: UserQuota(machines: 1))
        let plan = MachinePlan(name: "small", memoryMiB: 512, cpus: 1, diskSizeGiB: 5)
        let results = await withTaskGroup(of: Result<Machine, any Error>.self) { group in
            for name in ["a", "b"] {
                group.addTask {
                    await Result(catching: {
                        try await gate.admit(principal, adding: QuotaUsage(plan: plan)) {
                            try await providers.create(provider: "P", MachineRequest(
                                name: name, plan: plan, image: "i", sshKeys: [], userdata: "", creator: "ci"))
                        }
                    })
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(providers.created.count == 1)
        let refusals = results.compactMap { result -> String? in
            if case .failure(let error as GuesthouseError) = result { return error.message }
            return nil
        }
        #expect(refusals == ["quota exceeded: machines 1 of 1"])
        // Another user is not held by ci's lock, and a user without a quota is never counted.
        let free = Principal(user: "admin", role: .admin)
        _ = try await gate.admit(free, adding: QuotaUsage(plan: plan)) { 0 }
    }
}

extension QuotaGateTests {
    /// A disk added after the create counts against the disk quota, not only the root disk.
    @Test func everyDiskOfAMachineCounts() async throws {
        var machine = Machine(id: "m", name: "m", creator: "ci", memory: 512 << 20, cpus: 1,
                              rootDisk: MachineDisk(size: 5 << 30, driver: "qemu", type: "qcow2"))
        machine.diskBytes = (5 << 30) + (3 << 30)
        let gate = QuotaGate(providers: FixedProviders(machines: [machine]))
        #expect(try await gate.usage(of: "ci") == QuotaUsage(machines: 1, cpus: 1, memoryMiB: 512, diskGiB: 8))
        let principal = Principal(user: "ci", role: .member, quota: UserQuota(diskGiB: 10))
        await #expect(throws: GuesthouseError.self) {
            try await gate.admit(principal, adding: QuotaUsage(diskGiB: 3)) { 0 }
        }
        #expect(try await gate.admit(principal, adding: QuotaUsage(diskGiB: 2)) { 1 } == 1)
    }
}

/// A fixed list of machines on one provider.
struct FixedProviders: MachineProviders {
    let machines: [Machine]
    var providerNames: [String] { ["P"] }
    func machines(provider: String) async throws -> [Machine] { machines }
    func machine(provider: String, id: String) async throws -> Machine { throw GuesthouseError.notFound(id) }
    func images(provider: String) async throws -> [MachineImage] { [] }
    func create(provider: String, _ request: MachineRequest) async throws -> Machine { throw GuesthouseError.notFound(provider) }
    func delete(provider: String, id: String) async throws {}
    func perform(_ action: MachineAction, provider: String, id: String) async throws {}
    func status(provider: String) async throws -> ProviderStatus { throw GuesthouseError.notFound(provider) }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

/// Quotas on the Simplestack API (admins only): creates and changes that grow a guest are charged
/// to the acting user, refused with 403 `Forbidden` naming the limit, and leave the guest as it was.
@Suite struct SimplestackQuotaTests {
    static let ops = "ops"
    static var opsAuth: HTTPFields {
        [.init("x-simplestack-hypervisor-token")!: Data("\(ops):\(TestServer.password)".utf8).base64EncodedString()]
    }

    @Test func growthPastTheQuotaIsRefusedAndChangesNothing() async throws {
        try await AuditLogTests.withFile { path in
            let server = try Delegation.server(audit: path) { config in
                config.users[Self.ops] = UserConfig(name: Self.ops, passwordHash: TestServer.passwordHash,
                                                    quota: UserQuota(machines: 1, cpus: 2, diskGiB: 5))
            }
            try await server.run { client in
                // A guest made through Simplestack records its creator, so it counts.
                let first = try await client.call(.post, "/test/localhost/guests", json: #"{"name": "q-one", "memory": 128, "cpus": 1}"#,
                                                  headers: Self.opsAuth)
                #expect(first.status == .created, "\(first.text)")
                #expect(try await Delegation.machine(client, "q-one")?["Creator"] as? String == Self.ops)
                let create = try await client.call(.post, "/test/localhost/guests", json: #"{"name": "q-new", "memory": 128, "cpus": 1}"#,
                                                   headers: Self.opsAuth)
                #expect(create.status == .forbidden)
                #expect(object(create.json)["error"] as? String == "Forbidden")
                #expect(object(create.json)["message"] as? String == "quota exceeded: machines 1 of 1")
                let guests = try await client.call(.get, "/test/localhost/guests", headers: Self.opsAuth)
                #expect(!list(guests.json).contains { $0["name"] as? String == "q-new" })

                // build-box is stopped: what an update sets reads back at once.
                let box = try #require(list(guests.json).first { $0["name"] as? String == "build-box" })
                let id = try #require(box["id"] as? String)
                #expect(box["cpus"] as? Int == 1)
                let grow = try await client.call(.put, "/test/localhost/guests/\(id)", json: #"{"cpus": 4}"#, headers: Self.opsAuth)
                #expect(grow.status == .forbidden)
                #expect(object(grow.json)["message"] as? String == "quota exceeded: cpus 1 of 2 (3 more asked)")
                let same = try await client.call(.get, "/test/localhost/guests/\(id)", headers: Self.opsAuth)
                #expect(object(same.json)["cpus"] as? Int == 1)
                let small = try await client.call(.put, "/test/localhost/guests/\(id)", json: #"{"cpus": 2}"#, headers: Self.opsAuth)
                #expect(small.status == .ok, "\(small.text)")
                #expect(object(small.json)["cpus"] as? Int == 2)
                let shrink = try await client.call(.put, "/test/localhost/guests/\(id)", json: #"{"cpus": 1, "memory": 256}"#, headers: Self.opsAuth)
                #expect(shrink.status == .ok, "\(shrink.text)")

                // The admin without a quota is not counted.
                let admin = try await client.call(.put, "/test/localhost/guests/\(id)", json: #"{"cpus": 6}"#)
                #expect(admin.status == .ok, "\(admin.text)")

                let lines = try await AuditLogTests.lines(path, atLeast: 2)
                let refused = try #require(AuditLogTests.find(lines, "simplestack", "PUT /{hypervisor}/{host}/guests/{guest_id}", status: 403))
                #expect(refused["user"] as? String == Self.ops)
                #expect(refused["result"] as? String == "Forbidden: quota exceeded: cpus 1 of 2 (3 more asked)")
            }
        }
    }
}
