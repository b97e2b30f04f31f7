import Foundation
import GuesthouseCore
import Libvirt
import Testing

/// A fresh test-driver connection: every connection to a `test:///path` URI has its own state.
func fixtureConnection() throws -> Connection {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/node", withExtension: "xml"))
    return try Connection(uri: "test://\(url.path)")
}

@Suite struct BindingTests {
    @Test func listsAndLooksUpDomains() throws {
        let conn = try fixtureConnection()
        #expect(conn.isAlive)
        #expect(try conn.allDomains().map(\.name).sorted() == ["alpha", "beta"])
        let alpha = try conn.domain(name: "alpha")
        #expect(alpha.uuid == "11111111-1111-4111-8111-111111111111")
        #expect(try conn.domain(uuid: "22222222-2222-4222-8222-222222222222").name == "beta")
        #expect(try alpha.state() == .running)
        #expect(try conn.domain(name: "beta").state() == .shutoff)
        #expect(try alpha.xml().contains("<name>alpha</name>"))
    }

    @Test func capturesLibvirtsErrorRightAfterTheFailingCall() throws {
        let conn = try fixtureConnection()
        do {
            _ = try conn.domain(name: "no-such-guest")
            Issue.record("lookup of a missing domain succeeded")
        } catch let error as LibvirtError {
            #expect(error.kind == .notFound)
            #expect(!error.message.isEmpty)
        }
        do {
            try conn.domain(name: "alpha").start()
            Issue.record("starting a running domain succeeded")
        } catch let error as LibvirtError {
            // The test driver reports this as an internal error; its message names the cause.
            #expect(error.message.contains("already running"), "code \(error.code): \(error.message)")
        }
    }

    @Test func drivesTheLifecycleOfADomain() throws {
        let conn = try fixtureConnection()
        let beta = try conn.domain(name: "beta")
        try beta.start()
        #expect(try beta.state() == .running)
        try beta.suspend()
        #expect(try beta.state() == .paused)
        try beta.resume()
        try beta.destroy()
        #expect(try beta.state() == .shutoff)
    }

    @Test func definesAndUndefinesARenderedDomain() throws {
        let conn = try fixtureConnection()
        let xml = NewDomain(type: "test", name: "gamma", memoryMiB: 128, cpus: 1, os: .hvm(arch: "x86_64")).renderXML()
        let gamma = try conn.defineDomain(xml: xml)
        #expect(try conn.domain(name: "gamma").uuid == gamma.uuid)
        try gamma.setConfiguredMemory(kib: 256 * 1024)
        try gamma.setConfiguredVcpus(3)
        let definition = try DomainDefinition(xml: gamma.xml(inactive: true))
        #expect(definition.memoryKiB == 256 * 1024 && definition.vcpus == 3)
        try gamma.undefine()
        #expect(throws: LibvirtError.self) { try conn.domain(name: "gamma") }
    }

    @Test func storesAndReadsMetadata() throws {
        let conn = try fixtureConnection()
        let alpha = try conn.domain(name: "alpha")
        let ns = "http://guesthouse.dev/schema/test"
        #expect(try alpha.metadata(namespace: ns) == nil)
        try alpha.setMetadata("<tags><tag>a&amp;b</tag></tags>", key: "gh", namespace: ns)
        let read = try #require(try alpha.metadata(namespace: ns))
        #expect(read.contains("a&amp;b"))
        try alpha.setMetadata(nil, key: "gh", namespace: ns)
        #expect(try alpha.metadata(namespace: ns) == nil)
    }

    @Test func managesPoolsAndVolumes() throws {
        let conn = try fixtureConnection()
        let pool = try conn.storagePool(name: "images")
        #expect(try pool.info().capacity == 100 << 30)
        #expect(try pool.volumes().map(\.name) == ["Debian-12_amd64_qcow2.img"])
        let volume = try pool.createVolume(xml: """
            <volume><name>extra.qcow2</name><capacity unit='GiB'>3</capacity><target><format type='qcow2'/></target></volume>
            """)
        #expect(try volume.info().capacity == 3 << 30)
        #expect(try volume.poolName() == "images")
        try volume.delete()
        #expect(throws: LibvirtError.self) { try pool.volume(name: "extra.qcow2") }
    }

    @Test func takesRevertsAndDeletesSnapshots() throws {
        let conn = try fixtureConnection()
        let beta = try conn.domain(name: "beta")
        let snapshot = try beta.createSnapshot(xml: "<domainsnapshot><name>before</name></domainsnapshot>")
        #expect(try beta.snapshots().map(\.name) == ["before"])
        try beta.start()
        try snapshot.revert()
        #expect(try beta.state() == .shutoff)
        try snapshot.delete()
        #expect(try beta.snapshots().isEmpty)
    }

    @Test func readsNetworks() throws {
        let conn = try fixtureConnection()
        #expect(try conn.allNetworks().map(\.name) == ["isolated"])
        #expect(try conn.network(name: "isolated").bridgeName() == "ghtest0")
    }

    @Test func eachConnectionToAFixtureURIHasItsOwnState() throws {
        let first = try fixtureConnection()
        let second = try fixtureConnection()
        try first.domain(name: "alpha").destroy()
        #expect(try first.domain(name: "alpha").state() == .shutoff)
        #expect(try second.domain(name: "alpha").state() == .running)
    }

    @Test func anUnreachableHypervisorIsAnError() {
        #expect(throws: LibvirtError.self) { try Connection(uri: "qemu+tcp://127.0.0.1:1/system") }
    }

    @Test func theExecutorRunsBlockingWorkOffTheCooperativePool() async throws {
        let executor = LibvirtExecutor(threads: 2)
        let name = try await executor.run { Thread.current.name ?? "" }
        #expect(name.hasPrefix("TP-"), "ran on \(name)")
        let conn = try fixtureConnection()
        let count = try await executor.run { try conn.allDomains().count }
        #expect(count == 2)
    }
}
