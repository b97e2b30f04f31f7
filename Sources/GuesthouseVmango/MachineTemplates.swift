import Foundation
import GuesthouseCore
import Mustache

/// The two templates a provider makes machines with: the domain XML and the root volume XML.
/// Each is a built-in one or a file named by `vm_template` / `volume_template`. Files are Mustache
/// (`{{Machine.Name}}`); vmango's Go templates that only print fields (`{{ .Machine.Name }}`) are
/// read as well. Every value is XML-escaped except `{{{Metadata}}}`, which is XML we wrote.
///
/// The context, as vmango documents it: `Machine` (Name, Id, Uuid, HWAddr, OS, Arch, Memory, Cpus,
/// Creator), `Image` (Id, OS, Arch, Size, Type, TypeString, PoolName, Path), `Plan` (Name, Memory in
/// bytes, MemoryMiB, Cpus, DiskSize in bytes, DiskSizeGigabytes), `VolumePath`, `Network`, `Metadata`;
/// and ours: `DomainType`, `ConfigDrivePath` (empty on drivers without volume upload),
/// `RootVolume` (Name, Pool, Format), `Backing` (the image's path and format when the root volume
/// is a copy-on-write layer over it).
public struct MachineTemplates: Sendable {
    let domain: MustacheTemplate
    let volume: MustacheTemplate
    /// Whether the volume template is the built-in one (which knows how to layer over the image).
    public let builtInVolume: Bool

    /// The built-in templates.
    public init() {
        domain = try! MustacheTemplate(string: Self.builtInDomain)
        volume = try! MustacheTemplate(string: Self.builtInVolume)
        builtInVolume = true
    }

    /// Templates from files; a nil path keeps the built-in one.
    /// - Throws: `GuesthouseError.invalidArguments` naming the file when it cannot be read or parsed.
    public init(domainFile: String?, volumeFile: String?) throws {
        domain = try domainFile.map(Self.load) ?? MustacheTemplate(string: Self.builtInDomain)
        volume = try volumeFile.map(Self.load) ?? MustacheTemplate(string: Self.builtInVolume)
        builtInVolume = volumeFile == nil
    }

    func renderDomain(_ context: [String: Any]) -> String { domain.render(context) }
    func renderVolume(_ context: [String: Any]) -> String { volume.render(context) }

    static func load(_ path: String) throws -> MustacheTemplate {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw GuesthouseError.invalid("template \(path) cannot be read")
        }
        do {
            return try MustacheTemplate(string: fromGoTemplate(text))
        } catch {
            throw GuesthouseError.invalid("template \(path) does not parse: \(error)")
        }
    }

    /// Turns vmango's Go-template field references into Mustache ones; Mustache text passes as is.
    static func fromGoTemplate(_ text: String) -> String {
        let pattern = try! NSRegularExpression(pattern: #"\{\{-?\s*\.([A-Za-z][A-Za-z0-9_.]*)\s*-?\}\}"#)
        let range = NSRange(text.startIndex..., in: text)
        var out = ""
        var last = text.startIndex
        for match in pattern.matches(in: text, range: range) {
            guard let whole = Range(match.range, in: text), let name = Range(match.range(at: 1), in: text) else { continue }
            out += text[last..<whole.lowerBound]
            let field = String(text[name])
            out += field == "Metadata" ? "{{{Metadata}}}" : "{{\(field)}}"
            last = whole.upperBound
        }
        out += text[last...]
        return out
    }

    static let builtInDomain = """
    <domain type='{{DomainType}}'>
      <name>{{Machine.Name}}</name>
      <uuid>{{Machine.Uuid}}</uuid>
      <metadata>{{{Metadata}}}</metadata>
      <memory unit='b'>{{Plan.Memory}}</memory>
      <currentMemory unit='b'>{{Plan.Memory}}</currentMemory>
      <vcpu>{{Plan.Cpus}}</vcpu>
      <os><type arch='{{Image.Arch}}'>hvm</type><boot dev='hd'/></os>
      <features><acpi/><apic/></features>
      <clock offset='utc'/>
      <on_poweroff>destroy</on_poweroff>
      <on_reboot>restart</on_reboot>
      <on_crash>destroy</on_crash>
      <devices>
        <disk type='file' device='disk'>
          <driver name='qemu' type='{{RootVolume.Format}}'/>
          <source file='{{VolumePath}}'/>
          <target dev='vda' bus='virtio'/>
        </disk>
    {{#ConfigDrivePath}}
        <disk type='file' device='cdrom'>
          <driver name='qemu' type='raw'/>
          <source file='{{ConfigDrivePath}}'/>
          <target dev='hdc' bus='ide'/>
          <readonly/>
        </disk>
    {{/ConfigDrivePath}}
        <interface type='network'>
          <mac address='{{Machine.HWAddr}}'/>
          <source network='{{Network}}'/>
          <model type='virtio'/>
        </interface>
        <serial type='pty'/>
        <console type='pty'/>
        <graphics type='vnc' port='-1' listen='127.0.0.1'/>
      </devices>
    </domain>
    """

    static let builtInVolume = """
    <volume>
      <name>{{RootVolume.Name}}</name>
      <capacity unit='bytes'>{{Plan.DiskSize}}</capacity>
      <target><format type='{{RootVolume.Format}}'/></target>
    {{#Backing}}
      <backingStore><path>{{Backing.Path}}</path><format type='{{Backing.Format}}'/></backingStore>
    {{/Backing}}
    </volume>
    """
}
