import Hummingbird

/// Which methods a request path has, read from the route table (the documented operations): what a
/// `405 Method Not Allowed` lists in its `Allow` header.
enum AllowedMethods {
    /// The methods of the most specific route path matching `path` (constant segments win over
    /// parameters, as in Hummingbird's trie), sorted; nil when no route path matches.
    static func methods(for path: String, in operations: [Operation]) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/")
        var best: [Bool]?
        var methods: Set<String> = []
        for operation in operations {
            let template = operation.path.split(separator: "/")
            guard template.count == segments.count else { continue }
            var constants: [Bool] = []
            var matches = true
            for (part, segment) in zip(template, segments) {
                let parameter = part.hasPrefix("{") && part.hasSuffix("}")
                if !parameter && part != segment {
                    matches = false
                    break
                }
                constants.append(!parameter)
            }
            guard matches else { continue }
            if let current = best, current != constants {
                guard moreSpecific(constants, than: current) else { continue }
                methods = []
            }
            best = constants
            methods.insert(operation.method.rawValue)
        }
        guard best != nil else { return nil }
        return methods.sorted().compactMap { HTTPRequest.Method($0) }
    }

    /// Whether a path shape beats another: at the first segment where they differ, a constant.
    private static func moreSpecific(_ a: [Bool], than b: [Bool]) -> Bool {
        for (x, y) in zip(a, b) where x != y { return x }
        return false
    }
}
