import GuesthouseCore
import Hummingbird

extension SimplestackRoutes {
    func registerPool(_ api: APIRoutes<GuesthouseContext>) {
        let p = Self.prefix
        api.add(Operation(.get, p, id: "poolInfo", summary: "Pool information: memory, identity, software",
                          tag: "simplestack", success: (200, .ref("Pool")), errors: [403, 404, 502])) { request, context in
            let hv = try await hypervisor(request, context)
            return JSONResponse.make(SimplestackPool(try await hv.poolInfo()))
        }
        api.add(Operation(.get, p + "/hosts", id: "hostList", summary: "Hosts of the pool", tag: "simplestack",
                          success: (200, .array(.ref("Host"))), errors: [403, 404, 502])) { request, context in
            let hv = try await hypervisor(request, context)
            return JSONResponse.make(try await hv.hosts().map(SimplestackHost.init))
        }
        api.add(Operation(.get, p + "/hosts/{host_id}", id: "hostInfo", summary: "One host", tag: "simplestack",
                          success: (200, .ref("Host")), errors: [403, 404, 502])) { request, context in
            let hv = try await hypervisor(request, context)
            let id = try parameter("host_id", context)
            guard let host = try await hv.hosts().first(where: { $0.id == id || $0.name == id || $0.address == id }) else {
                throw GuesthouseError.notFound("host '\(id)' not found")
            }
            return JSONResponse.make(SimplestackHost(host))
        }
        api.add(Operation(.get, p + "/storages", id: "storageList", summary: "Storage pools", tag: "simplestack",
                          success: (200, .array(.ref("Storage"))), errors: [403, 404, 502])) { request, context in
            let hv = try await hypervisor(request, context)
            return JSONResponse.make(try await hv.storages().map(SimplestackStorage.init))
        }
        api.add(Operation(.get, p + "/storages/{storage_id}", id: "storageInfo", summary: "One storage pool",
                          tag: "simplestack", success: (200, .ref("Storage")), errors: [403, 404, 502])) { request, context in
            let hv = try await hypervisor(request, context)
            return JSONResponse.make(SimplestackStorage(try await hv.storage(id: try parameter("storage_id", context))))
        }
    }
}
