/// The one error type of Guesthouse. It knows its class (which each API names in its own way) and
/// therefore its HTTP status; handlers throw it, one middleware turns it into a response.
public struct GuesthouseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure. Simplestack clients branch on these names.
    public enum Kind: String, Sendable, CaseIterable {
        case entityNotFound = "EntityNotFound"
        case forbidden = "Forbidden"
        case invalidArguments = "InvalidArguments"
        case unauthorized = "Unauthorized"
        case operationNotAllowed = "OperationNotAllowed"
        /// The path exists but not with this method (the response's `Allow` header lists those it has).
        case methodNotAllowed = "MethodNotAllowed"
        case featureNotImplemented = "FeatureNotImplemented"
        case hypervisorError = "HypervisorError"
        case internalError = "InternalError"
        /// An `If-Match` that no longer matches the resource (someone changed it meanwhile).
        case preconditionFailed = "PreconditionFailed"
        /// Too many failed logins lately; `retryAfter` says when to try again.
        case tooManyRequests = "TooManyRequests"

        /// The HTTP status code of this class.
        public var httpStatus: Int {
            switch self {
            case .entityNotFound: 404
            case .forbidden: 403
            case .invalidArguments: 400
            case .unauthorized: 401
            case .operationNotAllowed: 409
            case .methodNotAllowed: 405
            case .featureNotImplemented: 501
            case .hypervisorError: 502
            case .internalError: 500
            case .preconditionFailed: 412
            case .tooManyRequests: 429
            }
        }
    }

    public var kind: Kind
    /// A sentence for people; never holds secrets.
    public var message: String
    /// Seconds after which a refused request may be tried again (the `Retry-After` header).
    public var retryAfter: Int?

    public init(_ kind: Kind, _ message: String, retryAfter: Int? = nil) {
        self.kind = kind
        self.message = message
        self.retryAfter = retryAfter
    }

    public var httpStatus: Int { kind.httpStatus }
    public var description: String { "\(kind.rawValue): \(message)" }

    public static func notFound(_ message: String) -> Self { .init(.entityNotFound, message) }
    public static func invalid(_ message: String) -> Self { .init(.invalidArguments, message) }
    public static func conflict(_ message: String) -> Self { .init(.operationNotAllowed, message) }
    public static func notImplemented(_ message: String) -> Self { .init(.featureNotImplemented, message) }
    public static func hypervisor(_ message: String) -> Self { .init(.hypervisorError, message) }
}
