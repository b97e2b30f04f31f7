/// The machine page: details with the state badge the script keeps current, power, the consoles'
/// links, and the snapshot, disk, media, clone and export sections. A form's problem shows beside
/// its field (`errors.FIELD`), the input marked invalid and pointing at the message.
extension WebTemplates {
    static let machinePages: [String: String] = [
        "machine": """
        <table class="pairs">
        <tr><th scope="row">Provider</th><td>{{provider}}</td></tr><tr><th scope="row">Id</th><td>{{machine.Id}}</td></tr>
        <tr><th scope="row">State</th><td><span data-state-url="{{base}}state/" aria-live="polite" class="state-{{machine.State}}">{{machine.State}}</span>
        <span id="state-changed" hidden>(changed: <a href="{{base}}">reload</a> for its actions)</span></td></tr>
        <tr><th scope="row">OS / arch</th><td>{{machine.OS}} {{machine.Arch}}</td></tr><tr><th scope="row">Image</th><td>{{machine.ImageId}}</td></tr>
        <tr><th scope="row">Plan</th><td>{{machine.Plan}}</td></tr><tr><th scope="row">Memory</th><td>{{memory}}</td></tr>
        <tr><th scope="row">CPUs</th><td>{{machine.Cpus}}</td></tr>
        <tr><th scope="row">Address</th><td>{{machine.Ip.Address}}{{#gateway}} (gateway {{gateway}}){{/gateway}}</td></tr>
        <tr><th scope="row">MAC</th><td>{{machine.HWAddr}}</td></tr><tr><th scope="row">VNC</th><td>{{machine.VNCAddr}}</td></tr>
        <tr><th scope="row">Root disk</th><td>{{disk}}</td></tr><tr><th scope="row">Creator</th><td>{{machine.Creator}}</td></tr>
        <tr><th scope="row">SSH keys</th><td>{{#machine.SSHKeys}}<div><strong>{{Name}}</strong> <code>{{Public}}</code></div>{{/machine.SSHKeys}}</td></tr>
        <tr><th scope="row">User data</th><td><pre>{{userdata}}</pre></td></tr></table>
        <div class="actions">{{#actions}}<form method="post" action="{{base}}{{name}}/">
        <input type="hidden" name="csrf" value="{{csrf}}"><button type="submit"{{#danger}} class="danger"{{/danger}}>{{label}}</button></form>{{/actions}}</div>
        <h2>Consoles</h2><p class="links"><a href="{{base}}console/vnc/">Graphical console (VNC)</a>
        <a href="{{base}}console/serial/">Serial console</a></p>
        {{#resourcesError}}<p class="error">{{resourcesError}}</p>{{/resourcesError}}
        {{> snapshots}}{{> disks}}{{> media}}{{> copies}}
        """,
        "snapshots": """
        <h2>Snapshots</h2>{{#snapshotsError}}<p class="error">{{snapshotsError}}</p>{{/snapshotsError}}
        {{#errors.snapshots}}<p class="field-error" role="alert">{{errors.snapshots}}</p>{{/errors.snapshots}}
        <table class="cards"><thead><tr><th>Name</th><th>State</th><th>Taken</th><th>Actions</th></tr></thead><tbody>
        {{#snapshots}}<tr><td data-label="Name">{{name}}</td><td data-label="State">{{state}}</td><td data-label="Taken">{{created}}</td>
        <td data-label="Actions"><div class="row-actions"><form method="post" action="{{base}}snapshots/{{segment}}/revert/"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Revert</button></form>
        <form method="post" action="{{base}}snapshots/{{segment}}/delete/"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger">Delete</button></form></div></td></tr>{{/snapshots}}
        {{^snapshots}}<tr><td colspan="4" class="whole">No snapshots.</td></tr>{{/snapshots}}</tbody></table>
        <form method="post" action="{{base}}snapshots/"><input type="hidden" name="csrf" value="{{csrf}}">
        <label for="snapshot-name">New snapshot's name (empty: named by the host)</label>
        <input id="snapshot-name" name="name" value="{{form.snapshotName}}"{{#errors.snapshotName}} aria-invalid="true" aria-describedby="snapshot-name-error"{{/errors.snapshotName}}>
        {{#errors.snapshotName}}<p class="field-error" id="snapshot-name-error">{{errors.snapshotName}}</p>{{/errors.snapshotName}}
        <p><button type="submit">Take snapshot</button></p></form>
        """,
        "disks": """
        <h2>Disks</h2>{{#disksError}}<p class="error">{{disksError}}</p>{{/disksError}}
        <table class="cards"><thead><tr><th>Device</th><th>Volume</th><th>Pool</th><th>Size</th><th>Bus</th></tr></thead><tbody>
        {{#disks}}<tr><td data-label="Device">{{id}}</td><td data-label="Volume">{{name}}</td><td data-label="Pool">{{pool}}</td><td data-label="Size">{{size}}</td><td data-label="Bus">{{bus}}</td></tr>{{/disks}}
        {{^disks}}<tr><td colspan="5" class="whole">No disks.</td></tr>{{/disks}}</tbody></table>
        <div class="forms"><form method="post" action="{{base}}disks/"><input type="hidden" name="csrf" value="{{csrf}}"><h3>Add a disk</h3>
        <label for="disk-size">Size (GiB)</label>
        <input id="disk-size" name="size" inputmode="numeric" value="{{form.diskSize}}" required{{#errors.diskSize}} aria-invalid="true" aria-describedby="disk-size-error"{{/errors.diskSize}}>
        {{#errors.diskSize}}<p class="field-error" id="disk-size-error">{{errors.diskSize}}</p>{{/errors.diskSize}}
        <label for="disk-pool">Pool</label><select id="disk-pool" name="pool"{{#errors.diskPool}} aria-invalid="true" aria-describedby="disk-pool-error"{{/errors.diskPool}}>
        <option value="">The first disk's pool</option>{{#pools}}<option{{#selected}} selected{{/selected}}>{{name}}</option>{{/pools}}</select>
        {{#errors.diskPool}}<p class="field-error" id="disk-pool-error">{{errors.diskPool}}</p>{{/errors.diskPool}}
        <p><button type="submit">Add disk</button></p></form>
        {{#hasDisks}}<form method="post" action="{{base}}disks/resize/"><input type="hidden" name="csrf" value="{{csrf}}"><h3>Grow a disk</h3>
        <label for="resize-disk">Disk</label><select id="resize-disk" name="disk">{{#disks}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{id}} ({{size}})</option>{{/disks}}</select>
        <label for="resize-size">New size (GiB)</label>
        <input id="resize-size" name="size" inputmode="numeric" required{{#errors.resizeSize}} aria-invalid="true" aria-describedby="resize-size-error"{{/errors.resizeSize}}>
        {{#errors.resizeSize}}<p class="field-error" id="resize-size-error">{{errors.resizeSize}}</p>{{/errors.resizeSize}}
        <p><button type="submit">Grow</button></p></form>{{/hasDisks}}</div>
        """,
        "media": """
        <h2>CD-ROM</h2>{{#mediaError}}<p class="error">{{mediaError}}</p>{{/mediaError}}
        {{#media}}<p>In the drive: {{#mounted}}<strong>{{mounted}}</strong>{{/mounted}}{{^mounted}}nothing{{/mounted}}</p>
        <form method="post" action="{{base}}media/insert/"><input type="hidden" name="csrf" value="{{csrf}}">
        <label for="media-image">ISO image</label><select id="media-image" name="image"{{#errors.mediaImage}} aria-invalid="true" aria-describedby="media-image-error"{{/errors.mediaImage}}>
        <option value="">Choose an image</option>{{#images}}<option{{#selected}} selected{{/selected}}>{{name}}</option>{{/images}}</select>
        {{#errors.mediaImage}}<p class="field-error" id="media-image-error">{{errors.mediaImage}}</p>{{/errors.mediaImage}}
        <p><button type="submit">Insert</button></p></form>
        {{#mounted}}<form method="post" action="{{base}}media/eject/"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger">Eject</button></form>{{/mounted}}{{/media}}
        """,
        "copies": """
        <h2>Clone and export</h2><div class="forms"><form method="post" action="{{base}}clone/"><input type="hidden" name="csrf" value="{{csrf}}">
        <label for="clone-name">The copy's name</label>
        <input id="clone-name" name="clone" value="{{form.cloneName}}" required{{#errors.cloneName}} aria-invalid="true" aria-describedby="clone-name-error"{{/errors.cloneName}}>
        {{#errors.cloneName}}<p class="field-error" id="clone-name-error">{{errors.cloneName}}</p>{{/errors.cloneName}}
        <p><button type="submit">Clone (a stopped machine)</button></p></form>
        <p><a href="{{base}}export/" download>Download the export archive</a> (a .tar of the definition and every disk; the machine must be stopped)</p></div>
        """,
    ]
}
