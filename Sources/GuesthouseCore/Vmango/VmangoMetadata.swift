import Foundation

/// What vmango keeps in a domain's `<metadata>`: `<vmango:md xmlns:vmango="http://vmango.org/schema/md">`
/// with the image, OS, creator, plan, SSH keys and user data. Domains made by vmango itself carry
/// the same element, so they read the same.
public struct VmangoMetadata: Sendable, Equatable {
    public static let namespace = "http://vmango.org/schema/md"

    public var imageID: String
    public var os: String
    public var creator: String
    public var plan: String
    public var sshKeys: [MachineSSHKey]
    public var userdata: String

    public init(imageID: String = "", os: String = "", creator: String = "", plan: String = "",
                sshKeys: [MachineSSHKey] = [], userdata: String = "") {
        self.imageID = imageID
        self.os = os
        self.creator = creator
        self.plan = plan
        self.sshKeys = sshKeys
        self.userdata = userdata
    }

    /// Reads the `md` element (its children's prefixes may be anything bound to the namespace).
    public init(element: XMLTree) {
        func local(_ name: String) -> String { String(name.split(separator: ":").last ?? "") }
        func text(_ name: String) -> String {
            element.children.first { local($0.name) == name }?.trimmedText ?? ""
        }
        imageID = text("imageId")
        os = text("os")
        creator = text("creator")
        plan = text("plan")
        let keys = element.children.first { local($0.name) == "sshkeys" }?.children ?? []
        sshKeys = keys.filter { local($0.name) == "key" }.map {
            MachineSSHKey(name: $0["name"] ?? "", publicKey: $0.trimmedText)
        }
        userdata = element.children.first { local($0.name) == "userdata" }?.text
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    /// The element as XML, every value escaped.
    public var xml: String {
        let keys = sshKeys.map { "<vmango:key name=\"\(xmlEscape($0.name))\">\(xmlEscape($0.publicKey))</vmango:key>" }
        return """
        <vmango:md xmlns:vmango="\(Self.namespace)">\
        <vmango:imageId>\(xmlEscape(imageID))</vmango:imageId>\
        <vmango:os>\(xmlEscape(os))</vmango:os>\
        <vmango:creator>\(xmlEscape(creator))</vmango:creator>\
        <vmango:plan>\(xmlEscape(plan))</vmango:plan>\
        <vmango:sshkeys>\(keys.joined())</vmango:sshkeys>\
        <vmango:userdata>\(xmlEscape(userdata))</vmango:userdata>\
        </vmango:md>
        """
    }
}
