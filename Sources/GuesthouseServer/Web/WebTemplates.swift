import Mustache

/// The web UI's pages: Mustache templates (every value HTML-escaped; `{{{body}}}` is a page we
/// rendered). Each page is rendered, then wrapped in the layout.
enum WebTemplates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in pages {
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
        <style>
        body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
        header{background:#1d2330;color:#fff;padding:.6em 1.2em;display:flex;gap:1.2em;align-items:center}
        header a{color:#cfd6e4;text-decoration:none}header a:hover{color:#fff}
        header form{margin-left:auto}main{padding:1.2em;max-width:70em}
        table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #e3e6eb}
        th{background:#eef0f4}.error{background:#fde8e8;color:#8a1c1c;padding:.6em;border-radius:4px}
        .state-running{color:#17702f}.state-stopped{color:#8a1c1c}
        form.inline{display:inline}button{cursor:pointer}label{display:block;margin:.5em 0 .2em}
        input,select,textarea{font:inherit;padding:.3em;min-width:20em}textarea{min-height:6em}
        </style></head><body>
        <header><strong>Guesthouse</strong>{{#user}}<a href="/">Status</a><a href="/machines/">Machines</a>
        <a href="/machines/add/">New machine</a><a href="/images/">Images</a>
        <form method="post" action="/logout/"><input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit">Log out {{user}}</button></form>{{/user}}</header>
        <main><h1>{{title}}</h1>{{#error}}<p class="error">{{error}}</p>{{/error}}{{{body}}}</main></body></html>
        """,
        "login": """
        <form method="post" action="/login/">
        <input type="hidden" name="csrf" value="{{loginToken}}"><input type="hidden" name="next" value="{{next}}">
        <label for="u">User</label><input id="u" name="Username" autocomplete="username" required autofocus>
        <label for="p">Password</label><input id="p" name="Password" type="password" autocomplete="current-password" required>
        <p><button type="submit">Log in</button></p></form>
        """,
        "status": """
        <table><tr><th>Provider</th><th>Machines</th><th>Running</th><th>Memory (used / host)</th><th>Storage (used / pool)</th></tr>
        {{#providers}}<tr><td>{{name}}</td>{{#error}}<td colspan="4" class="error">{{error}}</td>{{/error}}
        {{^error}}<td>{{machines}}</td><td>{{running}}</td><td>{{memoryUsed}} / {{memoryTotal}}</td>
        <td>{{storageUsed}} / {{storageTotal}}</td>{{/error}}</tr>{{/providers}}</table>
        """,
        "machines": """
        {{#providers}}<h2>{{name}}</h2>{{#error}}<p class="error">{{error}}</p>{{/error}}
        <table><tr><th>Name</th><th>State</th><th>OS</th><th>Address</th><th>Memory</th><th>CPUs</th><th>Plan</th><th>Creator</th></tr>
        {{#machines}}<tr><td><a href="/machines/{{provider}}/{{Id}}/">{{Name}}</a></td><td class="state-{{State}}">{{State}}</td>
        <td>{{OS}}</td><td>{{Ip.Address}}</td><td>{{memory}}</td><td>{{Cpus}}</td><td>{{Plan}}</td><td>{{Creator}}</td></tr>{{/machines}}
        {{^machines}}<tr><td colspan="8">No machines.</td></tr>{{/machines}}</table>{{/providers}}
        """,
        "machine": """
        <table>
        <tr><th>Provider</th><td>{{provider}}</td></tr><tr><th>Id</th><td>{{machine.Id}}</td></tr>
        <tr><th>State</th><td class="state-{{machine.State}}">{{machine.State}}</td></tr>
        <tr><th>OS / arch</th><td>{{machine.OS}} {{machine.Arch}}</td></tr><tr><th>Image</th><td>{{machine.ImageId}}</td></tr>
        <tr><th>Plan</th><td>{{machine.Plan}}</td></tr><tr><th>Memory</th><td>{{memory}}</td></tr>
        <tr><th>CPUs</th><td>{{machine.Cpus}}</td></tr>
        <tr><th>Address</th><td>{{machine.Ip.Address}}{{#machine.Ip.Gateway}} (gateway {{machine.Ip.Gateway}}){{/machine.Ip.Gateway}}</td></tr>
        <tr><th>MAC</th><td>{{machine.HWAddr}}</td></tr><tr><th>VNC</th><td>{{machine.VNCAddr}}</td></tr>
        <tr><th>Root disk</th><td>{{disk}}</td></tr><tr><th>Creator</th><td>{{machine.Creator}}</td></tr>
        <tr><th>SSH keys</th><td>{{#machine.SSHKeys}}<div><strong>{{Name}}</strong> <code>{{Public}}</code></div>{{/machine.SSHKeys}}</td></tr>
        <tr><th>User data</th><td><pre>{{userdata}}</pre></td></tr></table>
        <p>{{#actions}}<form class="inline" method="post" action="/machines/{{provider}}/{{machine.Id}}/{{name}}/">
        <input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">{{label}}</button></form> {{/actions}}</p>
        """,
        "add": """
        <form method="post" action="/machines/add/"><input type="hidden" name="csrf" value="{{csrf}}">
        <label for="n">Name</label><input id="n" name="Name" value="{{form.Name}}" required pattern="[A-Za-z0-9][A-Za-z0-9._-]*">
        <label for="pr">Provider</label><select id="pr" name="Provider">{{#providers}}<option>{{.}}</option>{{/providers}}</select>
        <label for="pl">Plan</label><select id="pl" name="Plan">{{#plans}}<option value="{{name}}">{{name}}: {{memory}} MiB, {{cpus}} CPU, {{disk}} GiB</option>{{/plans}}</select>
        <label for="im">Image</label><select id="im" name="Image">{{#images}}<option value="{{Id}}">{{Id}} ({{provider}})</option>{{/images}}</select>
        <label>SSH keys</label>{{#keys}}<div><label><input type="checkbox" name="SSHKey" value="{{name}}" style="min-width:0"> {{name}}</label></div>{{/keys}}
        <label for="ud">User data (cloud-init)</label><textarea id="ud" name="Userdata">{{form.Userdata}}</textarea>
        <p><button type="submit">Create</button></p></form>
        """,
        "images": """
        {{#providers}}<h2>{{name}}</h2>{{#error}}<p class="error">{{error}}</p>{{/error}}
        <table><tr><th>Image</th><th>OS</th><th>Arch</th><th>Format</th><th>Size</th><th>Date</th><th>Pool</th></tr>
        {{#images}}<tr><td>{{Id}}</td><td>{{OS}}</td><td>{{Arch}}</td><td>{{format}}</td><td>{{size}}</td><td>{{Date}}</td><td>{{PoolName}}</td></tr>{{/images}}
        {{^images}}<tr><td colspan="7">No images.</td></tr>{{/images}}</table>{{/providers}}
        """,
        "message": "<p>{{message}}</p>",
    ]
}
