import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseOverlay
@testable import GuesthouseContainers
import Testing

/// `[containers]` and `[overlay]`, the overlay's plan and the containers' domain definition: no host state.
struct ContainerConfigTests {
    @Test func theSectionsReadAsMissionSaysWithDefaults() throws {
        let config = try Config.parse("""
        [hypervisor.CT]
        url = "lxc:///system"
        [containers]
        provider = "CT"
        vnis = [2, 3, 4]
        bridge = "br{vni}"
        rootfs = "/var/lib/guesthouse/rootfs/base"
        [overlay]
        server_id = 1
        underlay = "eth1"
        group = "239.0.0.{vni}"
        address = "192.168.{vni}.{server_id}/24"
        mtu = 1450
        """, file: "g.toml")
        let containers = try #require(config.containers)
        #expect(containers.uri == "lxc:///system" && containers.provider == "CT")
        #expect(containers.bridgeName(vni: 3) == "br3")
        let overlay = try #require(config.overlay)
        #expect(overlay.serverID == 1 && overlay.underlay == "eth1" && overlay.vnis == [2, 3, 4])
        #expect(overlay.device == "vxlan{vni}" && overlay.port == 4789)
        let inherited = try Config.parse("[containers]\nvnis = [7]\nbridge = \"ct{vni}\"\n[overlay]\nserver_id = 9\n")
        #expect(inherited.overlay?.vnis == [7] && inherited.overlay?.bridge == "ct{vni}")
        #expect(inherited.overlay?.underlay == nil)
    }

    @Test(arguments: [
        ("[overlay]\nunderlay = \"eth1\"", "g.toml: overlay.server_id: is required"),
        ("[overlay]\nserver_id = 255", "g.toml: overlay.server_id: must be between 1 and 254"),
        ("[overlay]\nserver_id = 1\nunderlay = \"eth 1\"", "g.toml: overlay.underlay: must be an interface name"),
        ("[overlay]\nserver_id = 1\nvnis = [2, 2]", "g.toml: overlay.vnis: must not repeat a VNI"),
        ("[containers]\nvnis = [0]", "g.toml: containers.vnis: must hold VNIs between 1 and 16777215"),
        ("[containers]\nbridge = \"br\"", "g.toml: containers.bridge: must contain {vni}"),
        ("[containers]\nprovider = \"CT\"", "g.toml: containers.provider: names no [hypervisor.CT]"),
        ("[containers]\nrootfs = \"relative\"", "g.toml: containers.rootfs: must be an absolute path without ',' or ':'"),
        ("[containers]\ncolour = 1", "g.toml: containers.colour: unknown key (expected one of: bridge, busybox, gateway, layers, memory, provider, rootfs, vnis)"),
    ])
    func aBadValueNamesTheFileAndTheKey(toml: String, message: String) {
        #expect(throws: ConfigError.self) { try Config.parse(toml, file: "g.toml") }
        do { _ = try Config.parse(toml, file: "g.toml") } catch { #expect("\(error)" == message) }
    }

    @Test func aProviderMustBeAnLXCHypervisor() {
        let toml = "[hypervisor.K]\nurl = \"qemu:///system\"\n[containers]\nprovider = \"K\""
        do { _ = try Config.parse(toml, file: "g.toml"); Issue.record("accepted a qemu provider") } catch {
            #expect("\(error)".hasPrefix("g.toml: containers.provider: [hypervisor.K] must have an lxc URI"))
        }
        #expect(throws: ConfigError.self) {
            try Config.parse("[containers]\nbridge = \"averyveryverylongbr{vni}\"", file: "g.toml")
        }
    }

    @Test func thePlanNamesDevicesBridgesAndAddressesPerVNI() throws {
        var config = OverlayConfig(serverID: 7)
        config.underlay = "eth1"
        let plan = try OverlayPlan(config, underlayMTU: 1500)
        #expect(plan.mtu == 1450 && plan.warnings.isEmpty)
        #expect(plan.segments.map(\.device) == ["vxlan2", "vxlan3", "vxlan4"])
        #expect(plan.segments.map(\.bridge) == ["br2", "br3", "br4"])
        #expect(plan.segments.map(\.address.description) == ["192.168.2.7/24", "192.168.3.7/24", "192.168.4.7/24"])
        #expect(plan.segments.map { $0.group?.description } == ["239.0.0.2", "239.0.0.3", "239.0.0.4"])

        config.peers = ["10.0.0.2", "10.0.0.3"]
        let unicast = try OverlayPlan(config)
        #expect(unicast.segments.allSatisfy { $0.group == nil && $0.peers.map(\.description) == ["10.0.0.2", "10.0.0.3"] })
    }

    @Test func theMTUIsLoweredToFitTheUnderlay() throws {
        var config = OverlayConfig(serverID: 1)
        config.underlay = "eth1"
        config.mtu = 1500
        let plan = try OverlayPlan(config, underlayMTU: 1500)
        #expect(plan.mtu == 1450)
        #expect(plan.warnings.first?.contains("needs an underlay MTU of 1550") == true)
        #expect(try OverlayPlan(config, underlayMTU: 1550).mtu == 1500)
    }

    @Test func badTemplatesAndAMissingUnderlayAreRefused() {
        var config = OverlayConfig(serverID: 1)
        #expect(throws: OverlayError.noUnderlay) { try OverlayPlan(config) }
        config.underlay = "eth1"
        config.vnis = [300]
        #expect(throws: OverlayError.self) { try OverlayPlan(config) }  // 192.168.300.1
        config.vnis = [2]
        config.group = "10.0.0.{vni}"
        #expect(throws: OverlayError.invalid("overlay.group gives \"10.0.0.2\" for VNI 2: not an IPv4 multicast address")) {
            try OverlayPlan(config)
        }
        config.group = "239.0.0.{vni}"
        config.peers = ["224.0.0.1"]
        #expect(throws: OverlayError.self) { try OverlayPlan(config) }
    }

    @Test func theDomainHasItsOwnNetworkAndAStableMAC() throws {
        let definition = ContainerDefinition(
            id: 5, vlan: 2, ip: IPv4Interface("192.168.2.5/24")!, bridge: "br2",
            mac: ContainerDefinition.mac(id: 5, serverID: 3), gateway: IPv4Address("192.168.2.1"), mtu: 1450,
            memoryMiB: 128, rootfs: "/var/lib/guesthouse/containers/container5/rootfs")
        #expect(definition.mac == "02:03:00:00:00:05")
        #expect(ContainerDefinition.mac(id: 2_147_483_647, serverID: 254) == "02:fe:7f:ff:ff:ff")
        let xml = definition.xml
        #expect(xml.contains("<privnet/>"))
        #expect(xml.contains("<domain type='lxc'>") && xml.contains("<name>container5</name>"))
        #expect(xml.contains("<interface type='bridge'>") && xml.contains("<source bridge='br2'/>"))
        #expect(xml.contains("<ip address='192.168.2.5' prefix='24'/>"))
        #expect(xml.contains("gateway='192.168.2.1'"))
        #expect(xml.contains("<initenv name='GH_MTU'>1450</initenv>"))
        #expect(xml.contains("<source dir='/var/lib/guesthouse/containers/container5/rootfs'/>"))
        let parsed = ContainerDefinition.parse(xml) { $0 == "br2" ? 2 : nil }
        #expect(parsed == .init(vlan: 2, ip: "192.168.2.5/24", gateway: "192.168.2.1", mac: "02:03:00:00:00:05",
                                bridge: "br2", mtu: 1450, memoryKiB: 128 * 1024))
        #expect(ContainerDefinition.id(fromName: "container42") == 42)
        for name in ["container", "container042", "containerx", "web1", "container-1"] {
            #expect(ContainerDefinition.id(fromName: name) == nil, "\(name)")
        }
    }

    @Test func theCreatorIsKeptInTheMetadataEscaped() throws {
        var definition = ContainerDefinition(
            id: 6, vlan: 2, ip: IPv4Interface("192.168.2.6/24")!, bridge: "br2",
            mac: ContainerDefinition.mac(id: 6, serverID: 1), gateway: nil, mtu: nil,
            memoryMiB: 128, rootfs: "/r")
        #expect(ContainerDefinition.parse(definition.xml) { _ in 2 }.creator == nil)
        definition.creator = "a'l<i>ce"
        #expect(definition.xml.contains("creator='a&apos;l&lt;i&gt;ce'"))
        #expect(ContainerDefinition.parse(definition.xml) { _ in 2 }.creator == "a'l<i>ce")
    }

    @Test func theBaseNeedsAStaticBusybox() throws {
        #expect(throws: GuesthouseError.self) { try BaseRootfs.requireStatic("/bin/sh") }  // dynamically linked
        #expect(throws: GuesthouseError.self) { try BaseRootfs.requireStatic("/nonexistent/busybox") }
        try BaseRootfs.requireStatic("/bin/busybox")
    }
}
