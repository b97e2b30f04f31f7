import GuesthouseCore

/// The container API's one lookup: containers as the request's principal may see them. A member
/// sees and acts on the containers whose metadata names them as creator, and nothing else (404,
/// absent from the list); an admin sees all. A create records its principal as the creator.
struct OwnedContainerService: ContainerService {
    let inner: any ContainerService

    var vnis: [Int] { inner.vnis }

    func create(_ spec: ContainerSpec) async throws -> Container {
        var spec = spec
        if let user = RequestOrigin.current?.principal?.user { spec.creator = user }
        return try await inner.create(spec)
    }

    func runningIDs() async throws -> [Int] {
        let ids = try await inner.runningIDs()
        guard let scope = Ownership.scope else { return ids }
        var mine: [Int] = []
        for id in ids {
            // A container gone since the list is simply not listed.
            if let container = try? await inner.container(id: id), Ownership.visible(container.creator, to: scope) {
                mine.append(id)
            }
        }
        return mine
    }

    func container(id: Int) async throws -> Container {
        let container = try await inner.container(id: id)
        guard Ownership.visible(container.creator, to: Ownership.scope) else {
            throw GuesthouseError.notFound("container \(id) not found")
        }
        return container
    }

    /// Throws what `container(id:)` does when the principal may not act on it; an admin's request
    /// costs no lookup.
    private func checkOwner(_ id: Int) async throws {
        if Ownership.scope != nil { _ = try await container(id: id) }
    }

    func start(id: Int) async throws {
        try await checkOwner(id)
        try await inner.start(id: id)
    }

    func stop(id: Int) async throws {
        try await checkOwner(id)
        try await inner.stop(id: id)
    }

    func delete(id: Int) async throws {
        try await checkOwner(id)
        try await inner.delete(id: id)
    }

    func consoleLog(id: Int) async throws -> String {
        try await checkOwner(id)
        return try await inner.consoleLog(id: id)
    }
}
