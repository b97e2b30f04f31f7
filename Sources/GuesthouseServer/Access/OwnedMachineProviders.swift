import GuesthouseCore

/// The one place machines are looked up for a request: every provider, seen as the request's
/// principal may see them. An admin sees everything; a member sees only the machines whose Creator
/// is the member — anyone else's machine is "not found" (the same 404 as a machine that does not
/// exist) and is absent from lists. Creates and other changes that grow a user's machines pass the
/// user's quota (`QuotaGate`). Every route (vmango API, web pages, and any page built on them)
/// gets its machines from here, so none needs its own check.
struct OwnedMachineProviders: MachineProviders, MachineImageUploads, MachineHypervisors {
    let inner: any MachineProviders
    let quotas: QuotaGate

    init(_ inner: any MachineProviders) {
        self.inner = inner
        quotas = QuotaGate(providers: inner)
    }

    var providerNames: [String] { inner.providerNames }

    func machines(provider: String) async throws -> [Machine] {
        let scope = Ownership.scope
        let all = try await inner.machines(provider: provider)
        guard scope != nil else { return all }
        return all.filter { Ownership.visible($0.creator, to: scope) }
    }

    func machine(provider: String, id: String) async throws -> Machine {
        let machine = try await inner.machine(provider: provider, id: id)
        guard Ownership.visible(machine.creator, to: Ownership.scope) else {
            throw GuesthouseError.notFound("machine \(id) of provider \(provider) not found")
        }
        return machine
    }

    func images(provider: String) async throws -> [MachineImage] { try await inner.images(provider: provider) }

    /// Creates as the request's principal (their name is the Creator), within their quota.
    func create(provider: String, _ request: MachineRequest) async throws -> Machine {
        let principal = RequestOrigin.current?.principal
        var request = request
        if let principal { request.creator = principal.user }
        return try await quotas.admit(principal, adding: QuotaUsage(plan: request.plan)) {
            try await inner.create(provider: provider, request)
        }
    }

    /// Throws what `machine(provider:id:)` does when the principal may not act on it; an admin's
    /// request costs no lookup.
    private func checkOwner(provider: String, id: String) async throws {
        if Ownership.scope != nil { _ = try await machine(provider: provider, id: id) }
    }

    func delete(provider: String, id: String) async throws {
        try await checkOwner(provider: provider, id: id)
        try await inner.delete(provider: provider, id: id)
    }

    func perform(_ action: MachineAction, provider: String, id: String) async throws {
        try await checkOwner(provider: provider, id: id)
        try await inner.perform(action, provider: provider, id: id)
    }

    /// A member's overview counts their own machines only (the host's totals stay).
    func status(provider: String) async throws -> ProviderStatus {
        var status = try await inner.status(provider: provider)
        guard Ownership.scope != nil else { return status }
        let mine = try await machines(provider: provider)
        status.machines = mine.count
        status.runningMachines = mine.filter { $0.state == "running" }.count
        return status
    }

    /// The provider's hypervisor, for the machine page's snapshots, disks, media, clones and exports.
    /// Callers find the machine through `machine(provider:id:)` first (the ownership check) and
    /// grow it within the quota (`quotas.admitRequest`).
    func hypervisor(provider: String) throws -> any MachineHypervisor {
        guard let source = inner as? any MachineHypervisors else {
            throw GuesthouseError.notImplemented("this server's providers have no snapshots, disks, media or exports")
        }
        return try source.hypervisor(provider: provider)
    }

    /// Image uploads change what every user sees: admins only.
    func imageUploadTarget(provider: String) throws -> (volumes: any ImageVolumes, pool: String) {
        if let principal = RequestOrigin.current?.principal { try principal.requireAdmin("uploading images") }
        guard let uploads = inner as? any MachineImageUploads else {
            throw GuesthouseError.notImplemented("these providers take no image uploads")
        }
        return try uploads.imageUploadTarget(provider: provider)
    }
}
