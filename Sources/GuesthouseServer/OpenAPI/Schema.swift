import GuesthouseCore
import OpenAPIKit30

/// A JSON Schema, as far as the OpenAPI document needs one; `openAPI` makes it OpenAPIKit's.
/// Request schemas carry the validation the server applies, read from the same constants
/// (`Validation`), so a request the document allows is one the server takes.
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
    /// A string of `length` characters (Unicode scalars) matching `pattern` (an ECMA regular expression).
    case text(description: String? = nil, length: ClosedRange<Int>? = nil, pattern: String? = nil)
    /// An integer within `bounds`.
    case bounded(ClosedRange<Int>, description: String? = nil)
    /// Exactly this boolean (e.g. `false` for "remove").
    case constant(Bool)
    /// A value valid against at least one of these.
    case anyOf([Schema])
    /// Valid against exactly one of these.
    case oneOf([Schema])
    /// Valid against all of these.
    case allOf([Schema])
    /// An RFC 3339 date-time.
    case dateTime
    /// An object of any keys whose values are all `values`.
    case map(Schema)

    /// A name `Validation.name` accepts (guests, networks, volumes, snapshots).
    public static func name(description: String? = nil) -> Schema {
        .text(description: description, length: 1...GuesthouseCore.Validation.nameMaxLength,
              pattern: GuesthouseCore.Validation.namePattern)
    }

    /// The schema as OpenAPIKit's (OpenAPI 3.0 dialect).
    public var openAPI: JSONSchema {
        switch self {
        case .string(let description, let enumeration):
            return .string(description: description, allowedValues: enumeration?.map { AnyCodable($0) })
        case .integer(let description):
            return .integer(description: description)
        case .number(let description):
            return .number(description: description)
        case .boolean(let description):
            return .boolean(description: description)
        case .array(let items):
            return .array(items: items.openAPI)
        case .object(let properties, let required, let additional):
            let required = Set(required)
            var ordered = OrderedDictionary<String, JSONSchema>()
            for name in properties.keys.sorted() {
                let schema = properties[name]!.openAPI
                ordered[name] = required.contains(name) ? schema.requiredSchemaObject() : schema.optionalSchemaObject()
            }
            return .object(properties: ordered, additionalProperties: additional ? nil : .init(false))
        case .nullable(let inner):
            if case .ref = inner { return .all(of: [inner.openAPI], core: .init(nullable: true)) }
            return inner.openAPI.nullableSchemaObject()
        case .ref(let name):
            return .reference(.component(named: name))
        case .binary:
            return .string(format: .binary)
        case .any:
            return .fragment(.init())
        case .text(let description, let length, let pattern):
            return .string(description: description, minLength: length?.lowerBound, maxLength: length?.upperBound,
                           pattern: pattern)
        case .bounded(let bounds, let description):
            return .integer(description: description, maximum: (bounds.upperBound, exclusive: false),
                            minimum: (bounds.lowerBound, exclusive: false))
        case .constant(let value):
            return .boolean(allowedValues: [AnyCodable(value)])
        case .anyOf(let schemas):
            return .any(of: schemas.map(\.openAPI), core: .init())
        case .oneOf(let schemas):
            return .one(of: schemas.map(\.openAPI), core: .init())
        case .allOf(let schemas):
            return .all(of: schemas.map(\.openAPI), core: .init())
        case .dateTime:
            return .string(format: .dateTime)
        case .map(let values):
            return .object(additionalProperties: .init(values.openAPI))
        }
    }
}
