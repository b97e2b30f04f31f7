import Foundation
import Hummingbird

/// The guest's JSON written by hand: the guest routes are the hottest, and JSONEncoder was a tenth
/// of their time in profiles. Same keys (sorted, like `JSONResponse.encoder`) and values as
/// `encode(to:)`, which a test checks.
extension SimplestackGuest {
    var json: String {
        let hdd = guest.hddGiB.map { value -> String in
            let rounded = (value * 100).rounded() / 100
            return rounded == rounded.rounded() && abs(rounded) < 1e15 ? String(Int(rounded)) : String(rounded)
        } ?? "null"
        return "{\"cpus\":\(guest.cpus),\"hdd\":\(hdd),\"host\":\(JSONText.string(host)),\"id\":\(JSONText.string(guest.id)),"
            + "\"ip\":\(guest.ip.map(JSONText.string) ?? "null"),\"memory\":\(guest.memoryMiB),"
            + "\"name\":\(JSONText.string(guest.name)),\"paravirtualized\":\(guest.paravirtualized),"
            + "\"state\":\(JSONText.string(guest.state.rawValue)),\"tools_up_to_date\":null,"
            + "\"type\":\(JSONText.string(guest.domainType))}"
    }

    /// Whether `json` renders `other` the same (every field it writes is equal).
    func rendersLike(_ other: SimplestackGuest) -> Bool {
        host == other.host && guest.id == other.guest.id && guest.name == other.guest.name
            && guest.cpus == other.guest.cpus && guest.memoryMiB == other.guest.memoryMiB
            && guest.hddGiB == other.guest.hddGiB && guest.paravirtualized == other.guest.paravirtualized
            && guest.ip == other.guest.ip && guest.state == other.guest.state && guest.domainType == other.guest.domainType
    }

    /// A JSON response holding one guest; `etag` adds its `ETag`. With `rendered`, the body and tag
    /// come from there when the guest rendered the same before.
    func response(status: HTTPResponse.Status = .ok, location: String? = nil, etag: Bool = false,
                  rendered: RenderedGuests? = nil) -> Response {
        if let rendered {
            let rendering = rendered.rendering(of: self)
            if etag, status == .ok, location == nil {  // the guest info route: headers made once
                return Response(status: .ok, headers: rendering.headers, body: .init(byteBuffer: rendering.body))
            }
            var response = JSONText.response(rendering.body, status: status, location: location)
            if etag { response.headers[.eTag] = rendering.etag }
            return response
        }
        let json = self.json
        var response = JSONText.response(json, status: status, location: location)
        if etag { response.headers[.eTag] = EntityTag.of(Data(json.utf8)) }
        return response
    }

    /// A JSON response holding a list of guests.
    static func listResponse(_ guests: [SimplestackGuest], rendered: RenderedGuests? = nil) -> Response {
        if let rendered { return JSONText.response(rendered.list(guests)) }
        return JSONText.response("[" + guests.map(\.json).joined(separator: ",") + "]")
    }
}

/// Small pieces of hand-written JSON.
enum JSONText {
    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped.
    static func string(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func response(_ json: String, status: HTTPResponse.Status = .ok, location: String? = nil) -> Response {
        response(ByteBuffer(string: json), status: status, location: location)
    }

    static func response(_ json: ByteBuffer, status: HTTPResponse.Status = .ok, location: String? = nil) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let location { headers[.location] = location }
        return Response(status: status, headers: headers, body: .init(byteBuffer: json))
    }
}
