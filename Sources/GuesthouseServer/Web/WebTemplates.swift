import Mustache

/// The web UI's pages: Mustache templates (every value HTML-escaped; `{{{body}}}` is a page we
/// rendered). Each page is rendered, then wrapped in the layout.
enum WebTemplates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in pages.merging(machinePages) { a, _ in a }.merging(containerPages) { a, _ in a } {
            library.register(try! MustacheTemplate(string: text), named: name)
        }
        return library
    }()

    static func render(_ page: String, _ context: [String: Any]) -> String {
        library.render(context, withTemplate: page) ?? ""
    }

    static let pages: [String: String] = [
        "layout": """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>{{title}} · Guesthouse</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">{{#csrf}}<meta name="csrf-token" content="{{csrf}}">{{/csrf}}
        <link rel="stylesheet" href="/static/guesthouse.css">{{#script}}<script src="{{script}}" defer></script>{{/script}}</head><body>
        <a class="skip" href="#main">Skip to content</a>
        <header><strong>Guesthouse</strong>{{#user}}<nav aria-label="Main"><a href="/">Status</a><a href="/machines/">Machines</a>
        <a href="/machines/add/">New machine</a><a href="/images/">Images</a><a href="/containers/">Containers</a></nav>
        <form method="post" action="/logout/"><input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit">Log out {{user}}</button></form>{{/user}}</header>
        <main id="main"><h1>{{title}}</h1>{{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}{{{body}}}</main></body></html>
        """,
        "login": """
        <form method="post" action="/login/">
        <input type="hidden" name="csrf" value="{{loginToken}}"><input type="hidden" name="next" value="{{next}}">
        <label for="u">User</label><input id="u" name="Username" autocomplete="username" required autofocus>
        <label for="p">Password</label><input id="p" name="Password" type="password" autocomplete="current-password" required>
        <p><button type="submit">Log in</button></p></form>
        """,
        "status": """
        <table class="cards"><thead><tr><th>Provider</th><th>Machines</th><th>Running</th><th>Memory (used / host)</th><th>Storage (used / pool)</th></tr></thead><tbody>
        {{#providers}}<tr><td data-label="Provider">{{name}}</td>{{#error}}<td colspan="4" class="error whole">{{error}}</td>{{/error}}
        {{^error}}<td data-label="Machines">{{machines}}</td><td data-label="Running">{{running}}</td><td data-label="Memory (used / host)">{{memoryUsed}} / {{memoryTotal}}
        {{#memoryMeter}}<meter min="0" max="{{max}}" high="{{high}}" value="{{value}}" aria-label="Memory of {{name}}: {{memoryUsed}} of {{memoryTotal}}">{{memoryUsed}} / {{memoryTotal}}</meter>{{/memoryMeter}}</td>
        <td data-label="Storage (used / pool)">{{storageUsed}} / {{storageTotal}}
        {{#storageMeter}}<meter min="0" max="{{max}}" high="{{high}}" value="{{value}}" aria-label="Storage of {{name}}: {{storageUsed}} of {{storageTotal}}">{{storageUsed}} / {{storageTotal}}</meter>{{/storageMeter}}</td>{{/error}}</tr>{{/providers}}</tbody></table>
        """,
        "machines": """
        {{#providers}}<h2>{{name}}</h2>{{#error}}<p class="error">{{error}}</p>{{/error}}
        <table class="cards"><thead><tr><th>Name</th><th>State</th><th>OS</th><th>Address</th><th>Memory</th><th>CPUs</th><th>Plan</th><th>Creator</th></tr></thead><tbody>
        {{#machines}}<tr><td data-label="Name"><a href="/machines/{{provider}}/{{Id}}/">{{Name}}</a></td><td data-label="State" class="state-{{State}}">{{State}}</td>
        <td data-label="OS">{{OS}}</td><td data-label="Address">{{Ip.Address}}</td><td data-label="Memory">{{memory}}</td><td data-label="CPUs">{{Cpus}}</td><td data-label="Plan">{{Plan}}</td><td data-label="Creator">{{Creator}}</td></tr>{{/machines}}
        {{^machines}}<tr><td colspan="8" class="whole">No machines.</td></tr>{{/machines}}</tbody></table>{{/providers}}
        """,
        "add": """
        <form method="post" action="/machines/add/"><input type="hidden" name="csrf" value="{{csrf}}">
        <label for="n">Name</label><input id="n" name="Name" value="{{form.Name}}" required pattern="[A-Za-z0-9][A-Za-z0-9._-]*">
        <label for="pr">Provider</label><select id="pr" name="Provider">{{#providers}}<option>{{.}}</option>{{/providers}}</select>
        <label for="pl">Plan</label><select id="pl" name="Plan">{{#plans}}<option value="{{name}}">{{name}}: {{memory}} MiB, {{cpus}} CPU, {{disk}} GiB</option>{{/plans}}</select>
        <label for="im">Image</label><select id="im" name="Image">{{#images}}<option value="{{Id}}">{{Id}} ({{provider}})</option>{{/images}}</select>
        <fieldset><legend>SSH keys</legend>{{#keys}}<div class="check"><input type="checkbox" id="{{id}}" name="SSHKey" value="{{name}}"><label for="{{id}}">{{name}}</label></div>{{/keys}}{{^keys}}<p>No SSH keys configured.</p>{{/keys}}</fieldset>
        <label for="ud">User data (cloud-init)</label><textarea id="ud" name="Userdata">{{form.Userdata}}</textarea>
        <p><button type="submit">Create</button></p></form>
        """,
        "images": """
        {{#providers}}<h2>{{name}}</h2>{{#error}}<p class="error">{{error}}</p>{{/error}}
        <table class="cards"><thead><tr><th>Image</th><th>OS</th><th>Arch</th><th>Format</th><th>Size</th><th>Date</th><th>Pool</th></tr></thead><tbody>
        {{#images}}<tr><td data-label="Image">{{Id}}</td><td data-label="OS">{{OS}}</td><td data-label="Arch">{{Arch}}</td><td data-label="Format">{{format}}</td><td data-label="Size">{{size}}</td><td data-label="Date">{{Date}}</td><td data-label="Pool">{{PoolName}}</td></tr>{{/images}}
        {{^images}}<tr><td colspan="7" class="whole">No images.</td></tr>{{/images}}</tbody></table>{{/providers}}
        """,
        "message": "<p>{{message}}</p>",
        // The confirmation step of anything destructive: the same form again, with confirm=yes.
        "confirm": """
        <p>{{question}}</p><form method="post" action="{{action}}"><input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="confirm" value="yes">{{#keep}}<input type="hidden" name="{{name}}" value="{{value}}">{{/keep}}
        <div class="actions"><button type="submit" class="danger">{{button}}</button><a class="button" href="{{back}}">Cancel</a></div></form>
        """,
    ]
}
