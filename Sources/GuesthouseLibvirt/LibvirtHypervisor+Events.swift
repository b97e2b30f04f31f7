import GuesthouseCore

extension LibvirtHypervisor: HostEventSource {
    /// The host's events, from the view of this request's connection (opened if needed).
    public func events() async throws -> AsyncStream<HostEvent> {
        _ = try await pool.connection(uri: uri, credentials: credentials)
        return pool.view(uri: uri, credentials: credentials).events()
    }
}
