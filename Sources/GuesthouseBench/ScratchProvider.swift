import Foundation
import GuesthouseConfig
import GuesthouseCore
import Libvirt

/// A throwaway vmango provider on a real libvirt (for tests and the benchmark): an image pool, a
/// root pool and an isolated network (no `<forward>`: guests reach nothing beyond its own bridge)
/// with DHCP, all named with one prefix. `tearDown` removes every domain, volume, pool and network
/// carrying the prefix, whatever state a failed run left.
public struct ScratchProvider: Sendable {
    public let uri: String
    /// e.g. "ghvm-1a2b3c4d".
    public let prefix: String
    /// The network's /24, e.g. "10.213.7" (gateway .1, DHCP .100-.150).
    public let subnet: String
    public var imagePool: String { prefix + "-img" }
    public var rootPool: String { prefix + "-root" }
    public var network: String { prefix }
    static let base = "/var/lib/guesthouse-tests"

    /// Makes the pools and starts the network.
    public static func make(uri: String = "qemu:///system", prefix: String) throws -> ScratchProvider {
        let scratch = ScratchProvider(uri: uri, prefix: prefix, subnet: try freeSubnet())
        let conn = try Connection(uri: uri)
        do {
            for pool in [scratch.imagePool, scratch.rootPool] {
                let p = try conn.defineStoragePool(xml: """
                    <pool type='dir'><name>\(xmlEscape(pool))</name><target><path>\(base)/\(xmlEscape(pool))</path></target></pool>
                    """, build: true)
                _ = p
            }
            let bridge = "gh" + prefix.suffix(8)
            let network = try conn.defineNetwork(xml: """
                <network><name>\(xmlEscape(scratch.network))</name><bridge name='\(xmlEscape(bridge))' stp='off'/>
                  <ip address='\(scratch.subnet).1' netmask='255.255.255.0'>
                    <dhcp><range start='\(scratch.subnet).100' end='\(scratch.subnet).150'/></dhcp>
                  </ip>
                </network>
                """)
            try network.start()
        } catch {
            scratch.tearDown()
            throw error
        }
        return scratch
    }

    /// The provider's `[hypervisor.NAME]` block.
    public func hypervisorConfig(name: String) -> HypervisorConfig {
        var config = HypervisorConfig(name: name, url: uri)
        config.imageStoragePool = imagePool
        config.rootStoragePool = rootPool
        config.network = network
        return config
    }

    /// Puts an image into the image pool: a copy of `file`, or (nil) a raw volume of `bytes`,
    /// sparse unless `allocated`.
    public func addImage(name: String, copying file: String? = nil, bytes: UInt64 = 0, allocated: Bool = false) throws {
        let conn = try Connection(uri: uri)
        let pool = try conn.storagePool(name: imagePool)
        if let file {
            try FileManager.default.copyItem(atPath: file, toPath: "\(Self.base)/\(imagePool)/\(name)")
            try pool.refresh()
        } else {
            _ = try pool.createVolume(xml: """
                <volume><name>\(xmlEscape(name))</name><capacity unit='bytes'>\(bytes)</capacity>\
                <allocation unit='bytes'>\(allocated ? bytes : 0)</allocation><target><format type='raw'/></target></volume>
                """)
        }
    }

    /// Names of the root pool's volumes and of the network's static DHCP hosts.
    public func leftovers() throws -> (volumes: [String], hosts: [String]) {
        let conn = try Connection(uri: uri)
        let pool = try conn.storagePool(name: rootPool)
        try pool.refresh()
        let net = try conn.network(name: network)
        let plan = try DHCPPlan(networkXML: net.xml(inactive: true), network: network)
        return (try pool.volumes().map(\.name).sorted(), plan.hosts.map(\.name).sorted())
    }

    /// Removes everything named with the prefix. Never throws: it runs on failure paths.
    public func tearDown() {
        guard let conn = try? Connection(uri: uri) else { return }
        for domain in (try? conn.allDomains()) ?? [] where domain.name.hasPrefix(prefix) {
            if (try? domain.isActive()) == true { try? domain.destroy() }
            try? domain.undefine()
        }
        for name in [rootPool, imagePool] {
            if let pool = try? conn.storagePool(name: name) {
                for volume in (try? pool.volumes()) ?? [] { try? volume.delete() }
                try? pool.destroyAndUndefine()
            }
            try? FileManager.default.removeItem(atPath: "\(Self.base)/\(name)")
        }
        if let net = try? conn.network(name: network) {
            if (try? net.isActive()) == true { try? net.destroy() }
            try? net.undefine()
        }
    }

    /// A 10.213.N.0/24 that no interface of this machine has an address in.
    static func freeSubnet() throws -> String {
        var used = Set<String>()
        var list: UnsafeMutablePointer<ifaddrs>?
        if getifaddrs(&list) == 0, let first = list {
            var cursor: UnsafeMutablePointer<ifaddrs>? = first
            while let entry = cursor {
                if let address = entry.pointee.ifa_addr, address.pointee.sa_family == UInt16(AF_INET) {
                    let ip = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
                    used.insert(IPv4Address(ip & 0xFFFF_FF00).description)
                }
                cursor = entry.pointee.ifa_next
            }
            freeifaddrs(first)
        }
        for _ in 0..<64 {
            let candidate = "10.213.\(Int.random(in: 1...254))"
            if !used.contains(candidate + ".0") { return candidate }
        }
        throw GuesthouseError(.internalError, "no free 10.213.N.0/24 subnet for a scratch network")
    }
}
