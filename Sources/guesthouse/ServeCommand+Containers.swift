import Foundation
import GuesthouseConfig
import GuesthouseContainers
import GuesthouseCore
import GuesthouseLibvirt
import GuesthouseOverlay
import Libvirt
import Logging

extension ServeCommand {
    /// The parts of creepy-meow `serve` runs: re-applies `[overlay]` (idempotent, so a restart
    /// restores it) and makes the container service when `[containers]` is set.
    static func containerParts(_ settings: Config, pool: ConnectionPool, executor: LibvirtExecutor,
                               logger: Logger) async -> (any ContainerService)? {
        if let overlay = settings.overlay {
            let manager = OverlayManager(config: overlay)
            do {
                let (plan, status) = try await executor.run { try manager.up() }
                for warning in plan.warnings { logger.warning("overlay: \(warning)") }
                for s in status where !s.ok { logger.error("overlay: vni \(s.vni): \(s.problems.joined(separator: "; "))") }
                logger.info("overlay up: \(status.map { "\($0.bridge)/\($0.device)" }.joined(separator: " "))")
            } catch {
                logger.error("overlay: \(error)")
            }
        }
        guard let containers = settings.containers else { return nil }
        return LibvirtContainerService(config: containers, overlay: settings.overlay, pool: pool, executor: executor)
    }
}
