// Guesthouse: the VNC console page. noVNC (Debian's novnc package, served by this server) speaks
// RFB over the page's websocket; the server joins that socket to the guest's display.
import RFB from '/static/vendor/novnc/core/rfb.js';

const screen = document.getElementById('console');
const status = document.getElementById('console-status');
const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';

function show(state, text) {
    screen.dataset.state = state;
    status.textContent = text;
}

const rfb = new RFB(screen, scheme + location.host + screen.dataset.socket, { wsProtocols: ['binary'] });
rfb.scaleViewport = true;
rfb.addEventListener('connect', () => show('connected', 'Connected'));
rfb.addEventListener('disconnect', (event) => show('disconnected', event.detail.clean ? 'Disconnected' : 'Connection lost'));
rfb.addEventListener('securityfailure', (event) => show('disconnected', 'Refused: ' + (event.detail.reason || 'security')));
