/// A network interface of a guest as the NIC routes show it; its id is its MAC.
public struct GuestNIC: Sendable, Equatable {
    public var mac: String
    public var number: Int
    /// The libvirt network, or the bridge for bridged interfaces.
    public var network: String?
    public var linkUp: Bool
    /// Outbound/inbound average rate limit in bytes/s, nil when unlimited.
    public var rateLimitBytes: Int?
    public var model: String?

    public init(mac: String, number: Int, network: String?, linkUp: Bool, rateLimitBytes: Int?, model: String?) {
        self.mac = mac
        self.number = number
        self.network = network
        self.linkUp = linkUp
        self.rateLimitBytes = rateLimitBytes
        self.model = model
    }
}

/// Changes to an interface; nil leaves a field as it is.
public struct NICUpdate: Sendable, Equatable {
    public var network: String?
    public var linkUp: Bool?
    /// `.some(nil)` removes the limit.
    public var rateLimitBytes: Int??
    public init(network: String? = nil, linkUp: Bool? = nil, rateLimitBytes: Int?? = nil) {
        self.network = network
        self.linkUp = linkUp
        self.rateLimitBytes = rateLimitBytes
    }
}

/// Network interfaces of a guest.
public protocol GuestInterfaces: Sendable {
    func interfaces(guestID: String) async throws -> [GuestNIC]
    func interface(guestID: String, mac: String) async throws -> GuestNIC
    /// Attaches an interface on `network`; `mac` nil generates a 52:54:00:xx:xx:xx one.
    func createInterface(guestID: String, network: String, mac: String?) async throws -> GuestNIC
    func updateInterface(guestID: String, mac: String, _ update: NICUpdate) async throws -> GuestNIC
    func deleteInterface(guestID: String, mac: String) async throws
}
