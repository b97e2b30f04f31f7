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
}
