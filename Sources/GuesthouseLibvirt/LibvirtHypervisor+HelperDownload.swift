import Foundation
import GuesthouseCore
import Libvirt

/// Volume downloads through a `VolumeDownloadHelper` process: its frames are read by a thread of
/// their own, at most `VolumeDownloadProcess.readAhead` bytes ahead of `body`, so the helper (and
/// behind it libvirtd) is only ever that and one pipe ahead. A failure, or a throwing `body` (a
/// client that went away), kills the helper; its connection closes and libvirtd aborts the stream.
extension LibvirtHypervisor {
    func readVolume(_ ref: VolumeRef, through helper: VolumeDownloadHelper,
                    _ body: (FilePiece) async throws -> Void) async throws {
        let uri = self.uri
        let credentials = self.credentials
        let family = self.family
        let logger = pool.logger
        let download = try await executor.run {
            do {
                return try VolumeDownloadProcess(helper, uri: uri, credentials: credentials, pool: ref.pool, volume: ref.volume)
            } catch {
                throw GuesthouseError.hypervisor("volume download: cannot start \(helper.executable): \(error)")
            }
        }
        do {
            reading: while true {
                let frame: VolumeDownloadFrame
                do { frame = try await download.next() } catch {
                    // Dead (its output ended) or speaking nonsense: either way it stops here.
                    let status = try await executor.run { () -> Int32 in
                        download.kill()
                        return download.wait()
                    }
                    throw GuesthouseError.hypervisor("volume download of \(ref.pool)/\(ref.volume): the helper stopped (status \(status))")
                }
                switch frame {
                case .data(let bytes): try await body(.data(bytes))
                case .hole(let length): try await body(.hole(length))
                case .warning(let message):
                    logger.notice("volume download of \(ref.pool)/\(ref.volume): no sparse stream here (\(message)); sending every byte")
                case .end: break reading
                case .failure(let code, let domain, let message):
                    throw LibvirtErrorMapping.map(LibvirtError(code: code, domain: domain, message: message),
                                                  operation: "volume download", family: family)
                }
            }
            let status = try await executor.run { download.wait() }
            if status != 0 {
                throw GuesthouseError.hypervisor("volume download of \(ref.pool)/\(ref.volume): the helper exited with status \(status)")
            }
        } catch {
            let executor = self.executor
            do { try await executor.run { download.kill() } } catch { executor.submit { _ in download.kill() } }
            throw error
        }
    }
}
