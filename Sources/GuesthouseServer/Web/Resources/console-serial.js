// Guesthouse: the serial console page. term.js (Debian's libjs-term.js, served by this server)
// shows the guest's terminal; the page's websocket carries its bytes both ways.
(function () {
    'use strict';
    var screen = document.getElementById('console');
    var status = document.getElementById('console-status');
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    var term = new Terminal({ cols: 100, rows: 30, useStyle: false, screenKeys: false, cursorBlink: false });
    term.open(screen);

    function show(state, text) {
        screen.dataset.state = state;
        status.textContent = text;
    }

    var socket = new WebSocket(scheme + location.host + screen.dataset.socket);
    socket.binaryType = 'arraybuffer';
    var decoder = new TextDecoder('utf-8');
    socket.addEventListener('open', function () { show('connected', 'Connected'); term.focus(); });
    socket.addEventListener('message', function (event) {
        term.write(typeof event.data === 'string' ? event.data : decoder.decode(new Uint8Array(event.data), { stream: true }));
    });
    socket.addEventListener('close', function (event) {
        show('disconnected', event.reason ? 'Closed: ' + event.reason : 'Disconnected');
    });
    term.on('data', function (data) {
        if (socket.readyState === WebSocket.OPEN) { socket.send(new TextEncoder().encode(data)); }
    });
})();
