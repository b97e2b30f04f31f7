/// POSIX pax extended header records: `"<length> <key>=<value>\n"`, where length counts the whole
/// record including its own digits.
public enum PaxRecords {
    /// One record's bytes.
    public static func record(_ key: String, _ value: String) -> [UInt8] {
        let body = " \(key)=\(value)\n"
        let bodyCount = body.utf8.count
        var length = bodyCount + 1
        while String(length).utf8.count + bodyCount != length { length = String(length).utf8.count + bodyCount }
        return Array((String(length) + body).utf8)
    }

    /// Records in order, as the data of an 'x' member.
    public static func encode(_ records: [(String, String)]) -> [UInt8] {
        records.flatMap { record($0.0, $0.1) }
    }

    /// Parses an 'x' or 'g' member's data into key/value pairs, in order (later keys win when
    /// applied). - Throws: `invalidArguments` for a malformed record.
    public static func decode(_ data: [UInt8]) throws -> [(String, String)] {
        var out: [(String, String)] = []
        var index = 0
        while index < data.count {
            if data[index] == 0 { break }  // some writers pad with NULs
            guard let space = data[index...].firstIndex(of: 32),
                  let length = Int(String(decoding: data[index..<space], as: UTF8.self)),
                  length > space - index + 1, index + length <= data.count, data[index + length - 1] == 10,
                  let equals = data[(space + 1)..<(index + length)].firstIndex(of: UInt8(ascii: "="))
            else { throw GuesthouseError.invalid("the archive is corrupt (bad pax header)") }
            let key = String(decoding: data[(space + 1)..<equals], as: UTF8.self)
            let value = String(decoding: data[(equals + 1)..<(index + length - 1)], as: UTF8.self)
            out.append((key, value))
            index += length
        }
        return out
    }

    /// A pax time value ("1796049027.77603796") as whole seconds.
    static func seconds(_ value: String) -> UInt64? {
        UInt64(value.split(separator: ".", maxSplits: 1).first.map(String.init) ?? "")
    }
}
