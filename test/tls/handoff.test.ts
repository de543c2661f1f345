import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { AlertDescription } from '../../src/tls/alert.js';
import { until } from '../support/servers.js';
import { startHandoffServer } from './handoff-server.js';

/** Reads what a TLS client receives, as text. */
function collect(socket: TLSSocket): { text: () => string; error: () => Error | undefined; closed: () => boolean } {
  let text = '';
  let error: Error | undefined;
  let closed = false;
  socket.on('data', (d: Buffer) => (text += d.toString()));
  socket.on('error', (e: Error) => {
    error = e;
  });
  socket.on('close', () => (closed = true));
  return { text: () => text, error: () => error, closed: () => closed };
}

for (const suite of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']) {
  test(`node:tls client, ${suite}: records before and after the handoff, sequence continuing after the tickets`, async () => {
    const server = await startHandoffServer();
    try {
      let tickets = 0;
      const client = connect({ port: server.port, host: '127.0.0.1', rejectUnauthorized: false, ciphers: suite });
      client.on('session', () => tickets++);
      const seen = collect(client);
      await new Promise((resolve) => client.once('secureConnect', resolve));
      client.write('hello');
      await until(() => seen.text() === 'tls:hello', 5000, 'the node:tls echo');
      client.write('switch\n');
      await until(() => seen.text().endsWith('switched\n'), 5000, 'the handoff');
      const session = server.sessions[0]!;
      assert.equal(session.handoff?.suite.name, suite);
      // OpenSSL sent its NewSessionTickets and "tls:hello" under the application keys before the
      // handoff; the compact layer's first record ("switched") must continue after them.
      assert.equal(tickets, 2);
      assert.equal(session.handoff?.write.seq, 3);
      assert.equal(session.handoff?.read.seq, 2);
      for (let i = 0; i < 20; i++) client.write(`m${i};`);
      client.write(Buffer.alloc(40000, 0x61));
      const want = Array.from({ length: 20 }, (_, i) => `m${i};`).join('') + 'a'.repeat(40000);
      await until(() => session.compactData === want, 5000, 'compact echo');
      await until(() => seen.text().replaceAll('compact:', '').endsWith('a'.repeat(40000)), 5000, 'the echo back');
      client.end();
      await until(() => session.ended !== undefined && seen.closed(), 5000, 'the close');
      assert.equal(session.ended, null, 'the client closed with close_notify');
      assert.equal(seen.error(), undefined);
    } finally {
      await server.close();
    }
  });
}

test('node:tls client: a corrupted record after the handoff gets bad_record_mac, which the client reports', async () => {
  const server = await startHandoffServer();
  try {
    const tcp = netConnect({ port: server.port, host: '127.0.0.1' });
    const client = connect({ socket: tcp, rejectUnauthorized: false });
    const seen = collect(client);
    await new Promise((resolve) => client.once('secureConnect', resolve));
    client.write('switch\n');
    await until(() => seen.text().endsWith('switched\n'), 5000, 'the handoff');
    // A well-formed record header and garbage under it, straight on the TCP socket.
    tcp.write(Buffer.concat([Buffer.of(23, 3, 3, 0, 40), Buffer.alloc(40, 7)]));
    await until(() => seen.error() !== undefined || seen.closed(), 5000, 'the alert');
    assert.equal(server.sessions[0]!.ended?.alert, AlertDescription.bad_record_mac);
    assert.match(String(seen.error()?.message), /bad record mac/i);
  } finally {
    await server.close();
  }
});

test('node:tls client: an oversized record header gets record_overflow', async () => {
  const server = await startHandoffServer();
  try {
    const tcp = netConnect({ port: server.port, host: '127.0.0.1' });
    const client = connect({ socket: tcp, rejectUnauthorized: false });
    const seen = collect(client);
    await new Promise((resolve) => client.once('secureConnect', resolve));
    client.write('switch\n');
    await until(() => seen.text().endsWith('switched\n'), 5000, 'the handoff');
    tcp.write(Buffer.of(23, 3, 3, 0x41, 0x01));
    await until(() => seen.error() !== undefined || seen.closed(), 5000, 'the alert');
    assert.equal(server.sessions[0]!.ended?.alert, AlertDescription.record_overflow);
    assert.match(String(seen.error()?.message), /record overflow/i);
  } finally {
    await server.close();
  }
});

test('a TLS 1.2 client stays on node:tls', async () => {
  const server = await startHandoffServer();
  try {
    const client = connect({ port: server.port, host: '127.0.0.1', rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
    const seen = collect(client);
    await new Promise((resolve) => client.once('secureConnect', resolve));
    client.write('switch\n');
    await until(() => seen.text().startsWith('refused:'), 5000, 'the refusal');
    assert.equal(server.sessions[0]!.refused, 'protocol TLSv1.2');
    client.write('still');
    await until(() => seen.text().endsWith('tls:still'), 5000, 'node:tls still serving');
    client.destroy();
  } finally {
    await server.close();
  }
});

test('HandoffWatch refuses what the compact layer does not carry: TLS 1.2, other suites, 0-RTT, no secrets', async () => {
  const { HandoffWatch } = await import('../../src/tls/handoff.js');
  const line = (label: string, bytes = 32): string => `${label} ${'00'.repeat(32)} ${'11'.repeat(bytes)}\n`;
  const ready = (): InstanceType<typeof HandoffWatch> => {
    const watch = new HandoffWatch('server');
    watch.keylog(line('CLIENT_TRAFFIC_SECRET_0'));
    watch.keylog(line('SERVER_TRAFFIC_SECRET_0'));
    return watch;
  };
  const v12 = ready();
  v12.secured('TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256');
  assert.equal(v12.handoff(), 'protocol TLSv1.2');
  const ccm = ready();
  ccm.secured('TLSv1.3', 'TLS_AES_128_CCM_SHA256');
  assert.equal(ccm.refused, 'suite TLS_AES_128_CCM_SHA256');
  const early = ready();
  early.keylog(line('CLIENT_EARLY_TRAFFIC_SECRET'));
  early.secured('TLSv1.3', 'TLS_AES_128_GCM_SHA256');
  assert.equal(early.handoff(), '0-RTT was attempted');
  const none = new HandoffWatch('server');
  none.secured('TLSv1.3', 'TLS_AES_128_GCM_SHA256');
  assert.equal(none.refused, 'no application secrets in the key log');
  const wrongLength = ready();
  wrongLength.secured('TLSv1.3', 'TLS_AES_256_GCM_SHA384');
  assert.equal(wrongLength.refused, 'secrets of the wrong length for the suite');
  const fine = ready();
  assert.equal(fine.handoff(), 'the handshake is not done');
  fine.secured('TLSv1.3', 'TLS_AES_128_GCM_SHA256');
  fine.sent(Buffer.of(23, 3, 3));
  assert.equal(fine.handoff(), 'a record is in flight');
  assert.equal(fine.refused, undefined);
});
