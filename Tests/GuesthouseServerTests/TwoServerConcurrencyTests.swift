import Foundation
import GuesthouseCore
import HTTPTypes
import Libvirt
import Testing

/// Two Guesthouse servers (two replicas: each its own connection pool) on one qemu:///system
/// guest, changed at once: 16 tags, 3 disks and 2 NICs, half through each server. Every change
/// answered 2xx is in the definition afterwards (read from libvirt directly), no request gets a
/// 5xx, and no two disks share a volume.
@Suite(.serialized) struct TwoServerConcurrencyTests {
    /// One request of the storm and its answer.
    struct Outcome: Sendable {
        var kind: String
        var status: Int
        var object: [String: String]
        var tags: [String]
    }

    /// Sends the changes at once, alternating between the servers.
    static func storm(_ guest: String, _ servers: [SurfaceClient], tags: Int, disks: Int, nics: Int) async throws -> [Outcome] {
        try await withThrowingTaskGroup(of: Outcome.self) { group in
            var n = 0
            func next() -> SurfaceClient { defer { n += 1 }; return servers[n % servers.count] }
            for i in 0..<tags {
                let c = next()
                group.addTask {
                    let r = try await c.post(guest + "/tags", #"{"name": "tag-\#(i)"}"#)
                    return Outcome(kind: "tag-\(i)", status: r.status, object: [:], tags: r.array as? [String] ?? [])
                }
            }
            for i in 0..<disks {
                let c = next()
                group.addTask {
                    let r = try await c.post(guest + "/disks", #"{"size": 1}"#)
                    return Outcome(kind: "disk-\(i)", status: r.status,
                                   object: r.object.compactMapValues { $0 as? String }, tags: [])
                }
            }
            for i in 0..<nics {
                let c = next()
                group.addTask {
                    let r = try await c.post(guest + "/network_interfaces", #"{"network": "default"}"#)
                    return Outcome(kind: "nic-\(i)", status: r.status,
                                   object: r.object.compactMapValues { $0 as? String }, tags: [])
                }
            }
            var outcomes: [Outcome] = []
            for try await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
    }

    /// What libvirt itself holds for the guest: tags, disk targets -> source files, NIC MACs.
    static func readBack(_ name: String, live: Bool = false) throws -> (tags: Set<String>, disks: [String: String], macs: Set<String>) {
        let conn = try Connection(uri: "qemu:///system")
        let tree = try XMLTree.parse(conn.domain(name: name).xml(inactive: !live))
        let tags = (tree.child("metadata")?.children ?? []).filter { element in
            element.attributes.contains { $0.key.hasPrefix("xmlns") && $0.value.hasPrefix("http://guesthouse.dev/schema/1/tag/") }
        }.map(\.text)
        var disks: [String: String] = [:]
        for disk in tree.child("devices")?.children("disk") ?? [] where disk["device"] == "disk" {
            disks[disk.child("target")?["dev"] ?? ""] = disk.child("source")?["file"] ?? ""
        }
        let macs = Set((tree.child("devices")?.children("interface") ?? []).compactMap { $0.child("mac")?["address"] })
        return (Set(tags), disks, macs)
    }

    /// Checks the storm's outcomes against what libvirt holds.
    static func verify(_ outcomes: [Outcome], name: String, scratch: QemuScratch, disksBefore: Int, live: Bool) throws {
        #expect(!outcomes.isEmpty)
        for outcome in outcomes {
            #expect(outcome.status < 500, "\(outcome.kind) answered \(outcome.status)")
            #expect(outcome.status == 201, "\(outcome.kind) answered \(outcome.status)")
        }
        let held = try readBack(name)
        for outcome in outcomes where outcome.status / 100 == 2 && outcome.kind.hasPrefix("tag-") {
            #expect(held.tags.contains(outcome.kind), "\(outcome.kind) was answered 201 and is gone")
            #expect(outcome.tags.contains(outcome.kind))
        }
        let createdDisks = outcomes.filter { $0.status / 100 == 2 && $0.kind.hasPrefix("disk-") }
        for disk in createdDisks {
            let target = disk.object["id"] ?? ""
            #expect(held.disks[target]?.hasSuffix("/" + (disk.object["name"] ?? "?")) == true,
                    "\(disk.kind) (\(target), \(disk.object["name"] ?? "")) is not in the definition: \(held.disks)")
        }
        #expect(held.disks.count == disksBefore + createdDisks.count)
        #expect(Set(held.disks.values).count == held.disks.count, "two disks share a volume: \(held.disks)")
        #expect(Set(createdDisks.compactMap { $0.object["name"] }).count == createdDisks.count)
        let volumes = try scratch.volumes()
        for disk in createdDisks { #expect(volumes.contains(disk.object["name"] ?? "?")) }
        for nic in outcomes where nic.status / 100 == 2 && nic.kind.hasPrefix("nic-") {
            #expect(held.macs.contains(nic.object["id"] ?? "?"), "\(nic.kind) was answered 201 and is gone")
        }
        if live {
            let running = try readBack(name, live: true)
            for disk in createdDisks { #expect(running.disks[disk.object["id"] ?? ""] != nil, "\(disk.kind) is not attached live") }
            #expect(running.tags == held.tags)
        }
    }

    /// A stopped guest with one 1 GiB disk in the scratch pool; its path.
    static func createGuest(_ name: String, in s: QemuScratch, through c: SurfaceClient) async throws -> String {
        let spec = #"{"name": "\#(name)", "memory": 64, "cpus": 1, "hdd": 1, "storage": "\#(s.pool)", "paravirtualized": true}"#
        let created = try await c.post("/kvm/localhost/guests", spec)
        #expect(created.status == 201)
        return "/kvm/localhost/guests/" + (created.object["id"] as? String ?? name)
    }

    @Test func changesThroughTwoServersAtOnceAllSurviveOnAStoppedGuest() async throws {
        try await QemuScratch.with { s, a in
            try await SurfaceHarness.withQemu { b in
                let name = s.prefix + "-cc"
                let g = try await Self.createGuest(name, in: s, through: a)
                // Both replicas give the same ETag for the same guest.
                let tagA = try await a.get(g).headers[.eTag]
                #expect(tagA != nil)
                #expect(try await b.get(g).headers[.eTag] == tagA)

                let outcomes = try await Self.storm(g, [a, b], tags: 16, disks: 3, nics: 2)
                #expect(outcomes.count == 21)
                try Self.verify(outcomes, name: name, scratch: s, disksBefore: 1, live: false)
                #expect(try await b.get(g + "/tags").array.count == 16)
                #expect(try await a.get(g).headers[.eTag] == (try await b.get(g).headers[.eTag]))
            }
        }
    }

    @Test func changesThroughTwoServersAtOnceAllSurviveOnARunningGuest() async throws {
        try await QemuScratch.with { s, a in
            try await SurfaceHarness.withQemu { b in
                let name = s.prefix + "-cr"
                let g = try await Self.createGuest(name, in: s, through: a)
                #expect(try await a.put(g + "/power", #"{"state": "start"}"#).status == 200)
                // No NICs here: the host's "default" network is not started, and a running guest's
                // NIC needs a running network.
                let outcomes = try await Self.storm(g, [a, b], tags: 16, disks: 3, nics: 0)
                #expect(outcomes.count == 19)
                try Self.verify(outcomes, name: name, scratch: s, disksBefore: 1, live: true)
                #expect(try await b.put(g + "/power", #"{"state": "force_stop"}"#).status == 200)
            }
        }
    }
}
