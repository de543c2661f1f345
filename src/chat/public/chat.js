// The chat page's script: one WebSocket to this page's own server (/ws), so the origin check
// passes as it is. The room and nickname come from this page's query string (?room=..&nick=..);
// the server says when it gave others (`* [you] are NICK in room ROOM`) and after /nick
// (`* [you] are now NICK`): no nickname starts with `[`, so no one else can say it. A lost
// connection is shown with its close code and reason, and opened again after 1 s, 2 s, 4 s ...
// (at most 30 s, with some jitter), under the nickname of the moment.
'use strict';
(() => {
  const params = new URLSearchParams(location.search);
  let room = params.get('room') || 'lobby';
  let nick = params.get('nick') || `guest-${Math.floor(1000 + Math.random() * 9000)}`;
  const log = document.getElementById('log');
  const form = document.getElementById('form');
  const input = document.getElementById('msg');
  const send = document.getElementById('send');
  const status = document.getElementById('status');
  const FIRST_RETRY_MS = 1000;
  const LAST_RETRY_MS = 30_000;
  let retryMs = FIRST_RETRY_MS;
  let ws = null;

  function append(text, kind) {
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    const line = document.createElement('div');
    // Text, never HTML; and one line per message, whatever a server sends.
    line.textContent = text.replace(/[\r\n\u2028\u2029]+/g, ' ');
    if (kind) line.className = kind;
    log.appendChild(line);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  function showWho() {
    status.textContent = `room ${room}, you are ${nick}`;
  }

  function setEnabled(on) {
    document.body.dataset.state = on ? 'open' : 'closed';
    input.disabled = !on;
    send.disabled = !on;
  }

  /** What the server says to this page alone: the name (and room) it is known by. */
  function learn(text) {
    const renamed = /^\* \[you\] are now (.+)$/.exec(text);
    const given = /^\* \[you\] are (.+) in room (\S+)$/.exec(text);
    if (renamed) nick = renamed[1];
    else if (given) [, nick, room] = given;
    else return;
    showWho();
  }

  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WebSocket(
      `${scheme}//${location.host}/ws?room=${encodeURIComponent(room)}&nick=${encodeURIComponent(nick)}`,
    );
    ws.onopen = () => {
      retryMs = FIRST_RETRY_MS;
      showWho();
      setEnabled(true);
      input.focus();
    };
    ws.onmessage = (event) => {
      const text = String(event.data);
      learn(text);
      append(text, text.startsWith('* ') ? 'notice' : text.startsWith(`${nick}: `) ? 'own' : '');
    };
    ws.onclose = (event) => {
      const delay = Math.round(retryMs * (0.8 + Math.random() * 0.4));
      retryMs = Math.min(retryMs * 2, LAST_RETRY_MS);
      const why = `${event.code}${event.reason ? ` ${event.reason}` : ''}`;
      append(`Connection closed (${why}). Reconnecting in ${(delay / 1000).toFixed(1)} s…`, 'closed');
      status.textContent = `disconnected (${why}), reconnecting…`;
      setEnabled(false);
      setTimeout(connect, delay);
    };
  }

  if (!('WebSocket' in window)) {
    append('Your browser does not support WebSockets.', 'closed');
    return;
  }
  append(
    `Welcome to room ${room}, ${nick}. Add ?room=NAME&nick=NAME to this page's address for another ` +
      'room or name, or type /nick NAME to rename yourself.',
    'welcome',
  );
  connect();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (ws.readyState !== WebSocket.OPEN || input.value.trim() === '') return;
    ws.send(input.value);
    input.value = '';
    input.focus();
  });
})();
