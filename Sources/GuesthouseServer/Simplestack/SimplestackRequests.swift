import Foundation
import GuesthouseCore
import Hummingbird

/// A JSON object from a request body, with typed field access whose errors name the field.
struct JSONObject {
    var fields: [String: JSONValue]

    /// The largest JSON body taken.
    static let maxBody = 1 << 20

    /// Collects the body and parses it as a JSON object; an empty body is `{}` unless `required`.
    static func read(_ request: Request, required: Bool = true) async throws -> JSONObject {
        let buffer = try await request.body.collect(upTo: maxBody)
        return try parse(Data(buffer: buffer), required: required)
    }

    static func parse(_ data: Data, required: Bool = true) throws -> JSONObject {
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            if required { throw GuesthouseError.invalid("the request body must be a JSON object, and it is empty") }
            return JSONObject(fields: [:])
        }
        guard let value = JSONValue.parse(data) else { throw GuesthouseError.invalid("the request body is not valid JSON") }
        guard case .object(let fields) = value else { throw GuesthouseError.invalid("the request body must be a JSON object") }
        return JSONObject(fields: fields)
    }

    func has(_ key: String) -> Bool { fields[key] != nil }

    /// The schema of a body read with this type: an object whose optional properties may also be
    /// `null` (read as absent, as `string`, `int` and `bool` do), the `required` ones not.
    static func schema(_ properties: [String: Schema], required: [String] = []) -> Schema {
        var nullable = properties
        for (name, schema) in properties where !required.contains(name) { nullable[name] = .nullable(schema) }
        return .object(nullable, required: required)
    }

    func string(_ key: String, required: Bool = false) throws -> String? {
        switch fields[key] {
        case nil, .null?:
            if required { throw GuesthouseError.invalid("\"\(key)\" is required") }
            return nil
        case .string(let s)?: return s
        default: throw GuesthouseError.invalid("\"\(key)\" must be a string")
        }
    }

    /// A JSON number without a fraction (not a string of digits: the document says integer).
    func int(_ key: String, required: Bool = false) throws -> Int? {
        switch fields[key] {
        case nil, .null?:
            if required { throw GuesthouseError.invalid("\"\(key)\" is required") }
            return nil
        case .number(let n)? where n.rounded() == n && abs(n) < 1e15: return Int(n)
        default: throw GuesthouseError.invalid("\"\(key)\" must be an integer")
        }
    }

    func bool(_ key: String) throws -> Bool? {
        switch fields[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: throw GuesthouseError.invalid("\"\(key)\" must be true or false")
        }
    }
}

/// Simplestack's request bodies, mapped onto the model.
enum SimplestackRequests {
    /// `POST .../guests` with a JSON object: a new guest.
    static func guestSpec(_ o: JSONObject) throws -> GuestSpec {
        GuestSpec(name: try o.string("name", required: true)!,
                  memoryMiB: try o.int("memory") ?? 512,
                  cpus: try o.int("cpus") ?? 1,
                  hddGiB: try o.int("hdd"),
                  storage: try o.string("storage"),
                  network: try o.string("network"),
                  paravirtualized: try o.bool("paravirtualized") ?? true)
    }

    static let guestSpecSchema = JSONObject.schema([
        "name": .name(), "memory": .bounded(Validation.memoryMiB, description: "MiB, default 512"),
        "cpus": .bounded(Validation.cpus, description: "default 1"),
        "hdd": .bounded(Validation.diskGiB, description: "GiB: a first disk of this size"),
        "storage": .string(description: "pool id or name for the disk"),
        "network": .name(description: "a libvirt network for a first interface"), "paravirtualized": .boolean(),
    ], required: ["name"])

    /// `PUT .../guests/{id}`
    static func guestUpdate(_ o: JSONObject) throws -> GuestUpdate {
        GuestUpdate(name: try o.string("name"), memoryMiB: try o.int("memory"), cpus: try o.int("cpus"),
                    hddGiB: try o.int("hdd"), paravirtualized: try o.bool("paravirtualized"))
    }

    static let guestUpdateSchema = JSONObject.schema([
        "name": .name(), "memory": .bounded(Validation.memoryMiB, description: "MiB"),
        "cpus": .bounded(Validation.cpus), "hdd": .bounded(Validation.diskGiB, description: "GiB: resizes the last disk"),
        "paravirtualized": .boolean(),
    ])

    /// `PUT .../power`
    static func powerAction(_ o: JSONObject) throws -> PowerAction {
        let state = try o.string("state", required: true)!
        guard let action = PowerAction(rawValue: state) else {
            let valid = PowerAction.allCases.map(\.rawValue).joined(separator: ", ")
            throw GuesthouseError.invalid("unknown power state '\(state)' (valid: \(valid))")
        }
        return action
    }

    /// `PUT .../power`'s `"timeout"`: seconds a `stop` may wait for the guest to be off (nil: the
    /// server's `stop_timeout`).
    static func stopTimeout(_ o: JSONObject) throws -> Double? {
        guard let timeout = try o.int("timeout") else { return nil }
        try Validation.range(timeout, Validation.stopTimeoutSeconds, field: "timeout")
        return Double(timeout)
    }

    static let powerSchema = JSONObject.schema(
        ["state": .string(enumeration: PowerAction.allCases.map(\.rawValue)),
         "timeout": .bounded(Validation.stopTimeoutSeconds,
                             description: "stop: seconds to wait for the guest to be off (default: [server] stop_timeout)")],
        required: ["state"])
}
