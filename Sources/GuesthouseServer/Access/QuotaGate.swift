import GuesthouseConfig
import GuesthouseCore

/// What a user's machines add up to, or what a change adds.
public struct QuotaUsage: Sendable, Equatable {
    public var machines = 0
    public var cpus = 0
    public var memoryMiB = 0
    public var diskGiB = 0

    public init(machines: Int = 0, cpus: Int = 0, memoryMiB: Int = 0, diskGiB: Int = 0) {
        self.machines = machines
        self.cpus = cpus
        self.memoryMiB = memoryMiB
        self.diskGiB = diskGiB
    }

    /// What `machine` counts for: memory in MiB and all its disks in GiB, each rounded up.
    init(_ machine: Machine) {
        machines = 1
        cpus = machine.cpus
        memoryMiB = Int((machine.memory + (1 << 20) - 1) >> 20)
        diskGiB = Int((max(machine.diskBytes, machine.rootDisk?.size ?? 0) + (1 << 30) - 1) >> 30)
    }

    /// What growing a disk of `bytes` to `gib` GiB adds (nothing for a shrink or no size).
    public static func diskGrowth(from bytes: UInt64?, to gib: Int?) -> QuotaUsage {
        QuotaUsage(diskGiB: max(0, (gib ?? 0) - Int((bytes ?? 0) >> 30)))
    }

    /// What a new machine of `plan` counts for.
    public init(plan: MachinePlan) {
        self.init(machines: 1, cpus: plan.cpus, memoryMiB: plan.memoryMiB, diskGiB: plan.diskSizeGiB)
    }
}

/// Checks `[user.NAME.quota]`: the user's use is counted from libvirt, as the machines whose Creator
/// is the user on every provider, so every replica counts the same. A check and the change it
/// allows run under one per-user lock (`admit`), so within a replica two changes cannot both take
/// the last of a limit. Refusals are `forbidden` errors naming the limit and the current use, e.g.
/// `quota exceeded: machines 1 of 1`.
public final class QuotaGate: Sendable {
    private let providers: any MachineProviders
    private let lock = KeyedAsyncLock()

    /// - Parameter providers: every provider, unscoped (the use counts machines a member cannot see too).
    public init(providers: any MachineProviders) {
        self.providers = providers
    }

    /// What `user`'s machines add up to on every provider.
    /// - Throws: `hypervisorError` when a provider cannot be counted (a refusal rather than a guess).
    public func usage(of user: String) async throws -> QuotaUsage {
        var total = QuotaUsage()
        let providers = self.providers
        for (name, result) in await providers.eachProvider({ try await providers.machines(provider: $0) }) {
            guard case .success(let machines) = result else {
                throw GuesthouseError.hypervisor("cannot count the quota use of \(user): provider \(name) is unavailable")
            }
            for machine in machines where machine.creator == user {
                let one = QuotaUsage(machine)
                total.machines += one.machines
                total.cpus += one.cpus
                total.memoryMiB += one.memoryMiB
                total.diskGiB += one.diskGiB
            }
        }
        return total
    }

    /// Runs `change` if `principal`'s quota allows `adding` on top of their current use; the check
    /// and the change hold the user's lock. Without a quota the change runs at once.
    /// - Throws: `forbidden` (`quota exceeded: ...`) when a limit would be passed.
    public func admit<T: Sendable>(_ principal: Principal?, adding: QuotaUsage,
                                   _ change: () async throws -> T) async throws -> T {
        guard let principal, let quota = principal.quota else { return try await change() }
        return try await checked(principal.user, quota, { adding }, change)
    }

    /// `admit` for the principal of the request being handled, with the growth computed only when
    /// that principal has a quota (under their lock). Outside a request, or for a user without a
    /// quota, the change runs at once, uncounted.
    public func admitRequest<T: Sendable>(_ adding: () async throws -> QuotaUsage,
                                          _ change: () async throws -> T) async throws -> T {
        guard let principal = RequestOrigin.current?.principal, let quota = principal.quota else { return try await change() }
        return try await checked(principal.user, quota, adding, change)
    }

    private func checked<T: Sendable>(_ user: String, _ quota: UserQuota, _ adding: () async throws -> QuotaUsage,
                                      _ change: () async throws -> T) async throws -> T {
        try await lock.withLock(user) {
            let used = try await self.usage(of: user)
            if let refusal = Self.refusal(quota, used: used, adding: try await adding()) {
                throw GuesthouseError(.forbidden, refusal)
            }
            return try await change()
        }
    }

    /// The refusal text when `used + adding` passes a limit of `quota`, or nil.
    public static func refusal(_ quota: UserQuota, used: QuotaUsage, adding: QuotaUsage) -> String? {
        let checks: [(String, Int?, Int, Int, String)] = [
            ("machines", quota.machines, used.machines, adding.machines, ""),
            ("cpus", quota.cpus, used.cpus, adding.cpus, ""),
            ("memory", quota.memoryMiB, used.memoryMiB, adding.memoryMiB, " MiB"),
            ("disk", quota.diskGiB, used.diskGiB, adding.diskGiB, " GiB"),
        ]
        for (name, limit, current, more, unit) in checks {
            guard let limit, more > 0, current + more > limit else { continue }
            let asked = name == "machines" && more == 1 ? "" : " (\(more)\(unit) more asked)"
            return "quota exceeded: \(name) \(current) of \(limit)\(unit)\(asked)"
        }
        return nil
    }
}
