import Foundation
import GuesthouseCore
import Hummingbird

/// Validation errors of the container API, by field: `{"result": false, "errors": {FIELD: MESSAGE}}`.
struct ContainerFieldErrors: Error, Sendable {
    var fields: [String: String]
}

/// Reads creepy-meow's create request (a form, as `curl --data "id=5&vlan=2&ip=..."` sends, or JSON)
/// and checks each field, naming every field that is wrong at once.
enum ContainerRequests {
    static let idRange = 1...2_147_483_647

    /// The fields of a form or JSON body (vmango's reader); a body that is neither is a 400 on `body`.
    static func fields(_ request: Request) async throws -> FormFields {
        do {
            return try await FormFields.read(request)
        } catch let error as GuesthouseError {
            throw ContainerFieldErrors(fields: ["body": error.message])
        } catch {
            throw ContainerFieldErrors(fields: ["body": "cannot be read (at most \(FormFields.maxBody) bytes)"])
        }
    }

    /// The create request's spec.
    /// - Throws: `ContainerFieldErrors` naming each bad or missing field.
    static func spec(_ fields: FormFields, vnis: [Int]) throws -> ContainerSpec {
        var errors: [String: String] = [:]
        let id = fields.first("id").map { $0.trimmingCharacters(in: .whitespaces) }
        let ip = fields.first("ip").map { $0.trimmingCharacters(in: .whitespaces) }
        let vlan = fields.first("vlan").map { $0.trimmingCharacters(in: .whitespaces) }
        let idValue = id.flatMap(integer).flatMap { idRange.contains($0) ? $0 : nil }
        if id == nil || id == "" { errors["id"] = "is required" }
        else if idValue == nil { errors["id"] = "must be a whole number between 1 and \(idRange.upperBound)" }
        if ip == nil || ip == "" { errors["ip"] = "is required" }
        else if let message = ipProblem(ip!) { errors["ip"] = message }
        let vlanValue = vlan.flatMap(integer).flatMap { vnis.contains($0) ? $0 : nil }
        let choices = vnis.map(String.init).joined(separator: ", ")
        if vlan == nil || vlan == "" { errors["vlan"] = "is required (one of \(choices))" }
        else if vlanValue == nil { errors["vlan"] = "must be one of \(choices)" }
        guard errors.isEmpty, let idValue, let vlanValue, let ip else { throw ContainerFieldErrors(fields: errors) }
        return ContainerSpec(id: idValue, ip: ip, vlan: vlanValue)
    }

    /// The `{id}` of a path.
    static func id(_ context: GuesthouseContext) throws -> Int {
        guard let text = context.parameters.get("id"), let id = integer(text), idRange.contains(id) else {
            throw ContainerFieldErrors(fields: ["id": "must be a whole number between 1 and \(idRange.upperBound)"])
        }
        return id
    }

    /// Decimal digits only (no sign, no spaces, no leading zeros), within Int.
    static func integer(_ text: String) -> Int? {
        guard !text.isEmpty, text.count <= 18, text.allSatisfy({ $0.isASCII && $0.isNumber }),
              text == "0" || !text.hasPrefix("0") else { return nil }
        return Int(text)
    }

    /// Why `text` is not a usable `a.b.c.d/prefix`, or nil.
    static func ipProblem(_ text: String) -> String? {
        guard let ip = IPv4Interface(text), ip.prefix >= 1 else {
            return "must be an IPv4 address with a prefix length, e.g. 192.168.2.5/24"
        }
        guard ip.address.isHostUnicast else { return "must be a unicast host address (not 0.x, 127.x, multicast or reserved)" }
        guard ip.isHostAddress else { return "is the network or broadcast address of its subnet; give a host address" }
        return nil
    }
}

/// The JSON bodies of the container API (creepy-meow's shapes).
struct ContainerCreated: Encodable {
    var result = true
    var id: Int
    var vlan: Int
    var ip: String
}

struct ContainerList: Encodable {
    var containers_id: [Int]
}

struct ContainerInfo: Encodable {
    var result = true
    var id: Int
    var name: String
    var state: String
    var vlan: Int?
    var ip: String?
    var ips: [String]
    var gateway: String?
    var mac: String?
    var bridge: String?
    var mtu: Int?
    var memory_use: UInt64?
    var memory_limit: UInt64
    var cpu_use: Double?

    init(_ c: Container) {
        id = c.id
        name = c.name
        state = c.state.rawValue
        vlan = c.vlan
        ip = c.ip
        ips = c.ip.map { [String($0.split(separator: "/")[0])] } ?? []
        gateway = c.gateway
        mac = c.mac
        bridge = c.bridge
        mtu = c.mtu
        memory_use = c.memoryBytes
        memory_limit = c.memoryLimitBytes
        cpu_use = c.cpuSeconds
    }
}

struct ContainerAction: Encodable {
    var result = true
    var id: Int
    var action: String
}

struct ContainerConsole: Encodable {
    var result = true
    var id: Int
    var console: String
}

struct ContainerErrorBody: Encodable {
    var result = false
    var errors: [String: String]
}
