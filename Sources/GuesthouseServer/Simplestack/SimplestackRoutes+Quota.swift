import GuesthouseCore

extension SimplestackRoutes {
    /// Runs a change that may grow what the acting user's machines add up to within their
    /// `[user.NAME.quota]`: `adding` computes the growth (read under the user's lock, so two changes
    /// cannot both take the last of a limit). A user without a quota changes at once, uncounted.
    func withinQuota<T: Sendable>(_ adding: () async throws -> QuotaUsage,
                                  _ change: () async throws -> T) async throws -> T {
        guard let quotas else { return try await change() }
        return try await quotas.admitRequest(adding, change)
    }

    /// What a copy of a guest counts for: its cpus, memory and `hdd` (GiB, rounded up).
    static func usage(of guest: Guest) -> QuotaUsage {
        QuotaUsage(machines: 1, cpus: guest.cpus, memoryMiB: guest.memoryMiB,
                   diskGiB: Int((guest.hddGiB ?? 0).rounded(.up)))
    }

    /// What an update adds to `guest`: only growth counts (a shrink frees nothing until it is done).
    static func growth(of guest: Guest, by update: GuestUpdate) -> QuotaUsage {
        QuotaUsage(cpus: max(0, (update.cpus ?? guest.cpus) - guest.cpus),
                   memoryMiB: max(0, (update.memoryMiB ?? guest.memoryMiB) - guest.memoryMiB),
                   diskGiB: max(0, Int(((Double(update.hddGiB ?? 0)) - (guest.hddGiB ?? 0)).rounded(.up))))
    }
}
