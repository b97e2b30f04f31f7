import Crypto
import Foundation
import GuesthouseCore
import Libvirt

/// A host's id, never empty: libvirt's host UUID (capabilities `<host><uuid>`, else the SMBIOS
/// system UUID of `virConnectGetSysinfo`), else a name-based UUID (version 5) of the host's name, so
/// drivers without one (the test driver, some remote ones) still give an id that stays the same.
enum HostID {
    /// Reads the id over `conn`; `hostName` (the name the request used) is the last resort for the name.
    static func of(_ conn: Connection, hostName: String) -> String {
        if let caps = try? XMLTree.parse(conn.capabilities()), let uuid = valid(caps.path("host", "uuid")?.trimmedText) {
            return uuid
        }
        if let sysinfo = try? XMLTree.parse(conn.sysinfo()),
           let entry = sysinfo.child("system")?.children("entry").first(where: { $0["name"] == "uuid" }),
           let uuid = valid(entry.trimmedText) {
            return uuid
        }
        let name = (try? conn.hostname()).flatMap { $0.isEmpty ? nil : $0 } ?? hostName
        return nameBased(name)
    }

    /// A UUID libvirt gave, lower-cased; nil when it is absent, malformed or all zeros.
    static func valid(_ text: String?) -> String? {
        guard let text, let uuid = UUID(uuidString: text) else { return nil }
        let zero = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        return uuid == zero ? nil : uuid.uuidString.lowercased()
    }

    /// The RFC 9562 version-5 UUID of `name` in the DNS namespace.
    static func nameBased(_ name: String) -> String {
        // 6ba7b810-9dad-11d1-80b4-00c04fd430c8: the DNS namespace.
        let namespace: [UInt8] = [0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                  0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8]
        var bytes = Array(Insecure.SHA1.hash(data: namespace + Array(name.lowercased().utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let uuid = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return uuid.uuidString.lowercased()
    }
}
