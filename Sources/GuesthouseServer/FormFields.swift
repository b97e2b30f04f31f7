import Foundation
import GuesthouseCore
import Hummingbird

/// The fields of a request body sent as a form (`application/x-www-form-urlencoded`) or as a JSON
/// object, as lists of strings: a repeated form field (`SSHKey=a&SSHKey=b`) and a JSON array give
/// several values, anything else one.
struct FormFields: Sendable {
    private(set) var values: [String: [String]] = [:]
    /// The keys a JSON body gave as anything but a string or a list of strings (a number or boolean
    /// keeps its JSON text as the value; with `rejectingShapes` false, an object or a mixed list has
    /// no value), for readers whose fields must be strings.
    private(set) var nonStrings: Set<String> = []

    static let maxBody = 1 << 20

    /// Reads the body by its content type: JSON when it says so (or looks like an object), a form otherwise.
    /// `rejectingShapes`: an object or a list of non-strings is a 400 whatever its key; otherwise it
    /// is only noted in `nonStrings` (for readers that check the keys they read and ignore the rest).
    static func read(_ request: Request, rejectingShapes: Bool = true) async throws -> FormFields {
        let data = Data(buffer: try await request.body.collect(upTo: maxBody))
        let type = request.headers[.contentType]?.lowercased() ?? ""
        let firstByte = data.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        if type.hasPrefix("application/json") || (!type.contains("form") && firstByte == UInt8(ascii: "{")) {
            return try json(data, rejectingShapes: rejectingShapes)
        }
        return form(String(decoding: data, as: UTF8.self))
    }

    /// Parses `a=1&b=2&b=3` (`+` is a space, `%XX` escapes).
    static func form(_ text: String) -> FormFields {
        var fields = FormFields()
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let key = decode(parts[0])
            fields.values[key, default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
        return fields
    }

    static func json(_ data: Data, rejectingShapes: Bool = true) throws -> FormFields {
        guard case .object(let object)? = JSONValue.parse(data) else {
            throw GuesthouseError.invalid("the request body must be a JSON object or a form")
        }
        var fields = FormFields()
        for (key, value) in object {
            switch value {
            case .null: continue
            case .string(let s): fields.values[key] = [s]
            case .number(let n):
                fields.values[key] = [n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : String(n)]
                fields.nonStrings.insert(key)
            case .bool(let b):
                fields.values[key] = [String(b)]
                fields.nonStrings.insert(key)
            case .array(let items):
                let strings = items.compactMap { item -> String? in
                    if case .string(let s) = item { return s }
                    return nil
                }
                if strings.count == items.count {
                    fields.values[key] = strings
                } else if rejectingShapes {
                    throw GuesthouseError.invalid("\"\(key)\" must be a list of strings")
                } else {
                    fields.nonStrings.insert(key)
                }
            case .object:
                if rejectingShapes { throw GuesthouseError.invalid("\"\(key)\" must not be an object") }
                fields.nonStrings.insert(key)
            }
        }
        return fields
    }

    /// The field's first value, nil when absent.
    func first(_ key: String) -> String? { values[key]?.first }

    /// Every value of the field.
    func all(_ key: String) -> [String] { values[key] ?? [] }
}
