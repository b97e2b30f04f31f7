import GuesthouseCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// Joins a browser's websocket to an open console: the guest's bytes go out as binary messages
/// (RFB for noVNC, terminal bytes for the serial page), the browser's messages (binary or text)
/// go to the guest. Whichever side ends first ends the other: a closed tab closes the console (the
/// libvirt stream is aborted, the graphics socket closed), a console that ends closes the socket.
enum ConsoleBridge {
    /// Largest message a browser may send (keys, pointer events, pasted text).
    static let maxMessage = 1 << 20

    static func run(_ opened: Result<any ConsoleConnection, GuesthouseError>, inbound: WebSocketInboundStream,
                    outbound: WebSocketOutboundWriter, logger: Logger) async throws {
        let console: any ConsoleConnection
        switch opened {
        case .success(let value): console = value
        case .failure(let error):
            // The close frame's reason is at most 123 bytes.
            try await outbound.close(.unexpectedServerError, reason: String(error.message.utf8.prefix(120)) ?? "console unavailable")
            return
        }
        logger.debug("console opened")
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await chunk in console.output {
                    do {
                        try await outbound.write(.binary(ByteBuffer(bytes: chunk)))
                    } catch {
                        break
                    }
                }
                // The guest side ended (or the browser is gone): say goodbye if we still can.
                try? await outbound.close(.normalClosure, reason: "console closed")
            }
            group.addTask {
                do {
                    for try await message in inbound.messages(maxSize: maxMessage) {
                        switch message {
                        case .binary(let buffer): try await console.send(Array(buffer.readableBytesView))
                        case .text(let text): try await console.send(Array(text.utf8))
                        }
                    }
                } catch {
                    logger.debug("console input ended", metadata: ["reason": "\(type(of: error))"])
                }
            }
            // One direction ended: end the console, which ends the other.
            await group.next()
            await console.close()
            group.cancelAll()
        }
        logger.debug("console closed")
    }
}
