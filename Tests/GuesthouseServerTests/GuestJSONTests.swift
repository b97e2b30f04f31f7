import Foundation
import GuesthouseCore
@testable import GuesthouseServer
import Testing

/// The hand-written guest JSON says exactly what JSONEncoder says, whatever the strings hold.
@Suite struct GuestJSONTests {
    static func guest(name: String, hdd: Double?, ip: String?, state: GuestState) -> Guest {
        Guest(id: "6f1e8f2a-0000-4000-8000-000000000000", name: name, cpus: 2, memoryMiB: 1024, hddGiB: hdd,
              paravirtualized: true, ip: ip, state: state, domainType: "kvm")
    }

    @Test func handWrittenJSONEqualsTheEncoders() throws {
        let tricky = "quote\" back\\slash\nnew\tline" + String(UnicodeScalar(1)) + "ctl é 雪 🙂 </script>"
        let cases: [Guest] = [
            Self.guest(name: "web-1", hdd: 2, ip: "192.168.1.5", state: .started),
            Self.guest(name: tricky, hdd: 2.345678, ip: nil, state: .stopped),
            Self.guest(name: "", hdd: nil, ip: nil, state: .paused),
        ]
        for guest in cases {
            let wire = SimplestackGuest(guest: guest, host: "host \"1\"")
            let byHand = try JSONSerialization.jsonObject(with: Data(wire.json.utf8)) as? NSDictionary
            let encoded = try JSONSerialization.jsonObject(with: JSONResponse.encoder.encode(wire)) as? NSDictionary
            #expect(byHand != nil)
            #expect(byHand == encoded, "\(wire.json)")
        }
    }

    /// The remembered body and tag are the freshly rendered ones, and a change of anything the JSON
    /// shows renders anew.
    @Test func rememberedRenderingsFollowTheGuest() throws {
        let rendered = RenderedGuests()
        var guest = Self.guest(name: "web-1", hdd: 2, ip: "192.168.1.5", state: .started)
        let first = rendered.rendering(of: SimplestackGuest(guest: guest, host: "localhost"))
        let fresh = SimplestackGuest(guest: guest, host: "localhost").json
        #expect(String(buffer: first.body) == fresh)
        #expect(first.etag == EntityTag.of(Array(fresh.utf8)))
        #expect(String(buffer: rendered.rendering(of: SimplestackGuest(guest: guest, host: "localhost")).body) == fresh)
        guest.state = .stopped
        let changed = rendered.rendering(of: SimplestackGuest(guest: guest, host: "localhost"))
        #expect(String(buffer: changed.body) == SimplestackGuest(guest: guest, host: "localhost").json)
        #expect(changed.etag != first.etag)
        let other = rendered.rendering(of: SimplestackGuest(guest: guest, host: "127.0.0.1"))
        #expect(String(buffer: other.body).contains("\"host\":\"127.0.0.1\""))
        let list = rendered.list([SimplestackGuest(guest: guest, host: "localhost"), SimplestackGuest(guest: guest, host: "127.0.0.1")])
        let parsed = try JSONSerialization.jsonObject(with: Data(String(buffer: list).utf8)) as? [[String: Any]]
        #expect(parsed?.map { $0["host"] as? String } == ["localhost", "127.0.0.1"])
    }
}
