// The chat page's script: one WebSocket to this page's own server (/ws), so the origin check
// passes as it is. The room and nickname come from this page's query string (?room=..&nick=..).
'use strict';
(() => {
  const params = new URLSearchParams(location.search);
  const room = params.get('room') || 'lobby';
  const nick = params.get('nick') || `guest-${Math.floor(1000 + Math.random() * 9000)}`;
  const log = document.getElementById('log');
  const form = document.getElementById('form');
  const input = document.getElementById('msg');
  const send = document.getElementById('send');
  const status = document.getElementById('status');

  function append(text, kind) {
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    const line = document.createElement('div');
    line.textContent = text; // text, never HTML: whatever others send stays text
    if (kind) line.className = kind;
    log.appendChild(line);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  if (!('WebSocket' in window)) {
    append('Your browser does not support WebSockets.', 'closed');
    return;
  }
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(
    `${scheme}//${location.host}/ws?room=${encodeURIComponent(room)}&nick=${encodeURIComponent(nick)}`,
  );
  ws.onopen = () => {
    status.textContent = `room ${room}, you are ${nick}`;
    document.body.dataset.state = 'open';
    input.disabled = false;
    send.disabled = false;
    input.focus();
  };
  ws.onmessage = (event) => {
    const text = String(event.data);
    append(text, text.startsWith('* ') ? 'notice' : text.startsWith(`${nick}: `) ? 'own' : '');
  };
  ws.onclose = () => {
    append('Connection closed.', 'closed');
    status.textContent = 'disconnected';
    document.body.dataset.state = 'closed';
    input.disabled = true;
    send.disabled = true;
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (ws.readyState !== WebSocket.OPEN || input.value.trim() === '') return;
    ws.send(input.value);
    input.value = '';
    input.focus();
  });
})();
