/// A JSON Schema, as far as the OpenAPI document needs one.
public indirect enum Schema: Sendable {
    case string(description: String? = nil, enumeration: [String]? = nil)
    case integer(description: String? = nil)
    case number(description: String? = nil)
    case boolean(description: String? = nil)
    case array(Schema)
    case object([String: Schema], required: [String] = [], additional: Bool = true)
    case nullable(Schema)
    case ref(String)
    case binary
    /// Any JSON value.
    case any

    /// The schema as a JSON-compatible dictionary (OpenAPI 3.0 dialect).
    var json: [String: Any] {
        switch self {
        case .string(let description, let enumeration):
            var out: [String: Any] = ["type": "string"]
            if let description { out["description"] = description }
            if let enumeration { out["enum"] = enumeration }
            return out
        case .integer(let description):
            return ["type": "integer"].merging(description.map { ["description": $0] } ?? [:]) { a, _ in a }
        case .number(let description):
            return ["type": "number"].merging(description.map { ["description": $0] } ?? [:]) { a, _ in a }
        case .boolean(let description):
            return ["type": "boolean"].merging(description.map { ["description": $0] } ?? [:]) { a, _ in a }
        case .array(let items):
            return ["type": "array", "items": items.json]
        case .object(let properties, let required, let additional):
            var out: [String: Any] = ["type": "object", "properties": properties.mapValues(\.json)]
            if !required.isEmpty { out["required"] = required.sorted() }
            if !additional { out["additionalProperties"] = false }
            return out
        case .nullable(let inner):
            if case .ref = inner { return ["allOf": [inner.json], "nullable": true] }
            var out = inner.json
            out["nullable"] = true
            return out
        case .ref(let name):
            return ["$ref": "#/components/schemas/\(name)"]
        case .binary:
            return ["type": "string", "format": "binary"]
        case .any:
            return [:]
        }
    }
}
