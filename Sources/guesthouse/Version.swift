/// Guesthouse's version, in one place: `guesthouse --version` prints it and `scripts/package` names
/// the Debian package after it (it reads the string below).
enum GuesthouseVersion {
    static let current = "0.9.0"
}
