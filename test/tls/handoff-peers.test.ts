import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { until } from '../support/servers.js';
import { startHandoffServer } from './handoff-server.js';

/**
 * The compact record layer after a node:tls handshake, against peers that
 * are not Node: OpenSSL's s_client (which can force KeyUpdates both ways:
 * its `k` and `K` commands) and Python's ssl module.
 */

test('openssl s_client: data, KeyUpdate requested (K) and not (k), close_notify', async () => {
  const server = await startHandoffServer();
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${server.port}`, '-tls1_3'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    child.stdin.write('hello\n');
    await until(() => out.includes('tls:hello'), 10000, 's_client echo over node:tls');
    child.stdin.write('switch\n');
    await until(() => out.includes('switched'), 10000, 'the handoff');
    const session = server.sessions[0]!;
    // s_client takes a read that begins with K or k as the command alone: one command per read.
    const keyUpdates = (): number => (out + err).split('KEYUPDATE').length - 1;
    child.stdin.write('K\n');
    await until(() => keyUpdates() === 1, 10000, 'the KeyUpdate sent');
    child.stdin.write('after K\n');
    await until(() => out.includes('compact:after K'), 10000, 'echo after K');
    child.stdin.write('k\n');
    await until(() => keyUpdates() === 2, 10000, 'the second KeyUpdate sent');
    child.stdin.write('after k\n');
    await until(() => out.includes('compact:after k'), 10000, 'echo after k');
    assert.equal(session.compactData, 'after K\nafter k\n');
    // The read keys moved at K and at k (then one record: "after k"); the write keys moved once,
    // at the answer to K (then two records: the two echoes). Without the updates these would be 4 and 6.
    assert.deepEqual(session.layer?.sequence, { read: 1, write: 2 });
    assert.equal(session.ended, undefined);
    child.stdin.end();
    assert.equal(await exited, 0);
    await until(() => session.ended !== undefined, 5000, 'close_notify');
    assert.equal(session.ended, null);
  } finally {
    child.kill();
    await server.close();
  }
});

test('python ssl: echo after the handoff and a clean unwrap (close_notify both ways)', async () => {
  const server = await startHandoffServer();
  const script = `
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", ${server.port})))
def until(text):
    got = b""
    while text not in got:
        chunk = s.recv(65536)
        if not chunk: raise SystemExit("eof before " + text.decode())
        got += chunk
    return got
s.sendall(b"switch\\n")
until(b"switched\\n")
s.sendall(b"from python")
until(b"compact:from python")
s.unwrap()
print("ok")
`;
  try {
    const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, err);
    assert.equal(out.trim(), 'ok');
    const session = server.sessions[0]!;
    await until(() => session.ended !== undefined, 5000, 'close_notify');
    assert.equal(session.ended, null);
    assert.equal(session.compactData, 'from python');
  } finally {
    await server.close();
  }
});
