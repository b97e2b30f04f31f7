/// The containers pages: the running containers with the create form (each problem beside its
/// field), and one container's page with its state badge, actions and serial console's link.
extension WebTemplates {
    static let containerPages: [String: String] = [
        "containers": """
        {{#listError}}<p class="error">{{listError}}</p>{{/listError}}
        <table class="cards"><thead><tr><th>Name</th><th>State</th><th>Address</th><th>VNI</th><th>Memory limit</th></tr></thead><tbody>
        {{#containers}}<tr><td data-label="Name"><a href="/containers/{{id}}/">{{name}}</a></td><td data-label="State" class="state-{{state}}">{{state}}</td>
        <td data-label="Address">{{ip}}</td><td data-label="VNI">{{vlan}}</td><td data-label="Memory limit">{{memory}}</td></tr>{{/containers}}
        {{^containers}}<tr><td colspan="5" class="whole">No running containers.</td></tr>{{/containers}}</tbody></table>
        <h2>New container</h2><form method="post" action="/containers/"><input type="hidden" name="csrf" value="{{csrf}}">
        <label for="c-id">Number (the container is container&lt;number&gt;)</label>
        <input id="c-id" name="id" inputmode="numeric" value="{{form.id}}" required{{#errors.id}} aria-invalid="true" aria-describedby="c-id-error"{{/errors.id}}>
        {{#errors.id}}<p class="field-error" id="c-id-error">{{errors.id}}</p>{{/errors.id}}
        <label for="c-ip">Address with prefix (e.g. 192.168.2.5/24)</label>
        <input id="c-ip" name="ip" value="{{form.ip}}" required{{#errors.ip}} aria-invalid="true" aria-describedby="c-ip-error"{{/errors.ip}}>
        {{#errors.ip}}<p class="field-error" id="c-ip-error">{{errors.ip}}</p>{{/errors.ip}}
        <label for="c-vlan">VNI</label><select id="c-vlan" name="vlan"{{#errors.vlan}} aria-invalid="true" aria-describedby="c-vlan-error"{{/errors.vlan}}>
        {{#vnis}}<option{{#selected}} selected{{/selected}}>{{vni}}</option>{{/vnis}}</select>
        {{#errors.vlan}}<p class="field-error" id="c-vlan-error">{{errors.vlan}}</p>{{/errors.vlan}}
        <p><button type="submit">Create and start</button></p></form>
        """,
        "container": """
        <table class="pairs">
        <tr><th scope="row">Number</th><td>{{container.id}}</td></tr>
        <tr><th scope="row">State</th><td><span data-state-url="/containers/{{container.id}}/state/" aria-live="polite" class="state-{{container.state}}">{{container.state}}</span>
        <span id="state-changed" hidden>(changed: <a href="/containers/{{container.id}}/">reload</a> for its actions)</span></td></tr>
        <tr><th scope="row">Address</th><td>{{container.ip}}</td></tr><tr><th scope="row">Gateway</th><td>{{container.gateway}}</td></tr>
        <tr><th scope="row">VNI</th><td>{{container.vlan}}</td></tr><tr><th scope="row">MAC</th><td>{{container.mac}}</td></tr>
        <tr><th scope="row">Memory limit</th><td>{{container.memory}}</td></tr></table>
        <div class="actions">{{#actions}}<form method="post" action="/containers/{{container.id}}/{{name}}/">
        <input type="hidden" name="csrf" value="{{csrf}}"><button type="submit"{{#danger}} class="danger"{{/danger}}>{{label}}</button></form>{{/actions}}</div>
        <h2>Console</h2><p class="links"><a href="/containers/{{container.id}}/console/serial/">Serial console</a></p>
        """,
    ]
}
