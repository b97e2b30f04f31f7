import Hummingbird

/// The web UI's one style sheet, served from `/static/guesthouse.css` so the Content-Security-Policy
/// needs no inline styles. Narrow screens (phones) get tables as cards and wrapping text, so no page
/// scrolls sideways; focus is always visible and text keeps at least WCAG AA contrast.
enum WebStyle {
    static let path = "/static/guesthouse.css"

    static let css = """
    *,*::before,*::after{box-sizing:border-box}
    body{font:16px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
    a{color:#1a4f9c}
    :focus-visible{outline:3px solid #1a5fb4;outline-offset:2px}
    .skip{position:absolute;left:-999em}.skip:focus{left:.5em;top:.5em;background:#fff;color:#1a4f9c;padding:.4em;z-index:1}
    header{background:#1d2330;color:#fff;padding:.6em 1.2em;display:flex;flex-wrap:wrap;gap:.4em 1.2em;align-items:center}
    header nav{display:flex;flex-wrap:wrap;gap:.4em 1.2em}
    header a{color:#dfe5f0;text-decoration:none;padding:.2em 0}header a:hover{color:#fff;text-decoration:underline}
    header :focus-visible{outline-color:#ffd166}
    header form{margin-left:auto}
    main{padding:1.2em;max-width:70em}
    h1{font-size:1.6em;margin:.2em 0 .6em;overflow-wrap:anywhere}h2{font-size:1.25em;overflow-wrap:anywhere}
    table{border-collapse:collapse;width:100%;background:#fff}
    th,td{text-align:left;padding:.4em .6em;border-bottom:1px solid #d5d9e0;vertical-align:top;overflow-wrap:anywhere}
    th{background:#eef0f4}
    code,pre{font-size:.9em;overflow-wrap:anywhere;word-break:break-all;white-space:pre-wrap}pre{margin:0}
    .error{background:#fde8e8;color:#7a1414;padding:.6em;border-radius:4px}
    .state-running,.state-RUNNING{color:#14632a;font-weight:600}.state-stopped,.state-STOPPED{color:#7a1414;font-weight:600}
    .field-error{color:#7a1414;background:#fde8e8;margin:.3em 0;padding:.3em .5em;border-radius:4px;max-width:30em}
    [aria-invalid=true]{border:2px solid #a11d1d}
    [hidden]{display:none}
    meter{display:block;width:100%;max-width:14em;height:1em;margin-top:.2em}
    .links{display:flex;flex-wrap:wrap;gap:.5em 1.2em}
    .row-actions{display:flex;flex-wrap:wrap;gap:.4em}
    .forms{display:flex;flex-wrap:wrap;gap:0 2em}.forms>form,.forms>p{flex:1 1 18em;min-width:0}
    h3{font-size:1.05em;margin:.8em 0 0}
    a.button{display:inline-block;padding:.35em .9em;border:1px solid #1a4f9c;border-radius:4px;color:#1a4f9c;background:#fff;text-decoration:none}
    .actions{display:flex;flex-wrap:wrap;gap:.5em;margin:1em 0}
    button{font:inherit;cursor:pointer;padding:.35em .9em;border:1px solid #1a4f9c;border-radius:4px;background:#1a4f9c;color:#fff}
    button:hover{background:#143d7a}
    header button{background:#fff;color:#1d2330;border-color:#fff}
    button.danger{background:#a11d1d;border-color:#a11d1d}
    label{display:block;margin:.7em 0 .2em;font-weight:600}
    input,select,textarea{font:inherit;padding:.35em;width:100%;max-width:30em;border:1px solid #6b7280;border-radius:4px;background:#fff;color:#1d2330}
    textarea{min-height:6em}
    fieldset{border:1px solid #d5d9e0;border-radius:4px;margin:.7em 0;padding:.3em .8em;max-width:30em}
    legend{font-weight:600}
    .check{display:flex;gap:.5em;align-items:center}.check input{width:auto}.check label{margin:.2em 0;font-weight:normal}
    @media (max-width:44em){
      main{padding:.8em}
      header form{margin-left:0}
      table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:auto}
      table.cards thead{display:none}
      table.cards{background:none}
      table.cards tr{margin:0 0 .8em;border:1px solid #d5d9e0;border-radius:6px;background:#fff}
      table.cards td{display:grid;grid-template-columns:7.5em minmax(0,1fr);gap:.6em}
      table.cards td::before{content:attr(data-label);font-weight:600}
      table.cards td.whole{display:block}
      table.pairs th,table.pairs td{display:block;width:auto}
      table.pairs th{border-bottom:0;padding-bottom:.1em}
    }
    """

    /// The style sheet (public: the login page needs it too).
    static func register(_ router: Router<GuesthouseContext>) {
        router.get(.init(stringLiteral: path)) { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: css)))
        }
    }
}
