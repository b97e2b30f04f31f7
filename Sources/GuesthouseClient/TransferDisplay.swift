import Foundation
import GuesthouseCore

/// Shows a transfer's progress: on a terminal one redrawn line with a bar, bytes, rate and ETA;
/// otherwise plain lines (every 10% or 5 s) that logs and pipes can keep.
public final class TransferDisplay: @unchecked Sendable {
    private let label: String
    private let terminal: Bool
    private let write: @Sendable (String) -> Void
    private let lock = NSLock()
    private var started = Date()
    private var lastDraw = Date.distantPast
    private var lastDecile = -1
    private var total: UInt64 = 0

    /// - Parameters:
    ///   - terminal: whether to draw a bar (default: standard error is a terminal).
    ///   - write: where text goes (default: standard error).
    public init(label: String, terminal: Bool = isatty(STDERR_FILENO) == 1,
                write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.label = label
        self.terminal = terminal
        self.write = write
    }

    /// Starts a phase (e.g. "upload", "server") of `total` bytes (0: unknown).
    public func begin(_ phase: String, total: UInt64) {
        lock.withLock {
            self.total = total
            started = Date()
            lastDraw = .distantPast
            lastDecile = -1
        }
        if !terminal { write("\(label): \(phase), \(Self.bytes(total))\n") }
    }

    /// Reports `done` bytes of the current phase, and its total when it became known meanwhile.
    public func update(_ done: UInt64, total newTotal: UInt64? = nil) {
        let line: String? = lock.withLock {
            if let newTotal, newTotal != total {
                total = newTotal
                lastDecile = -1
            }
            let now = Date()
            let elapsed = max(now.timeIntervalSince(started), 0.001)
            let rate = Double(done) / elapsed
            let fraction = total > 0 ? min(Double(done) / Double(total), 1) : 0
            if terminal {
                guard now.timeIntervalSince(lastDraw) >= 0.1 || (total > 0 && done >= total) else { return nil }
                lastDraw = now
                let width = 24
                let filled = Int(fraction * Double(width))
                let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
                let eta = rate > 0 && total > done ? Self.duration(Double(total - done) / rate) : "--:--"
                return "\r\(label) [\(bar)] \(Int(fraction * 100))% \(Self.bytes(done))/\(Self.bytes(total)) "
                    + "\(Self.bytes(UInt64(rate)))/s ETA \(eta)\u{1B}[K"
            }
            let decile = Int(fraction * 10)
            guard decile > lastDecile || now.timeIntervalSince(lastDraw) >= 5 else { return nil }
            lastDecile = max(decile, lastDecile)
            lastDraw = now
            return "\(label): \(Self.bytes(done)) of \(Self.bytes(total)) (\(Int(fraction * 100))%), \(Self.bytes(UInt64(rate)))/s\n"
        }
        if let line { write(line) }
    }

    /// Ends the display with a message.
    public func finish(_ message: String) {
        write((terminal ? "\r\u{1B}[K" : "") + "\(label): \(message)\n")
    }

    /// "12.3 MiB".
    public static func bytes(_ value: UInt64) -> String { ByteCountText.binary(value) }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
