import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient, createServer } from '../../src/index.js';

const index = fileURLToPath(new URL('../../src/index.js', import.meta.url));

/** Starts a server in a child with `flags` and reports which transport it chose. */
function transportWith(flags: string[], transport: string, env: Record<string, string> = {}): string {
  const script = `import('${index}').then(async ({ createServer }) => {
    const server = createServer({ transport: '${transport}', logLevel: 'silent' });
    await server.listen(0, '127.0.0.1');
    await server.close();
    setTimeout(() => { process.stdout.write(server.transport); }, 50);
  });`;
  return execFileSync(process.execPath, [...flags, '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test("'auto' picks the raw handle transport where tcp_wrap is usable", () => {
  assert.equal(transportWith([], 'auto'), 'handle');
});

test("'auto' picks socket under --pending-deprecation, and --throw-deprecation does not kill the process", () => {
  assert.equal(transportWith(['--pending-deprecation', '--throw-deprecation'], 'auto'), 'socket');
  assert.equal(transportWith(['--throw-deprecation'], 'auto', { NODE_PENDING_DEPRECATION: '1' }), 'socket');
});

test("an explicit 'handle' loads tcp_wrap without DEP0111, even under --throw-deprecation --pending-deprecation", () => {
  assert.equal(transportWith(['--pending-deprecation', '--throw-deprecation'], 'handle'), 'handle');
});

test("without process.binding (the permission model), 'auto' falls back to socket with one warning", () => {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `process.binding = undefined; import('${index}').then(({ createServer }) => {
    process.on('warning', (w) => process.stdout.write(w.code + ' '));
    const a = createServer({ logLevel: 'silent' }); const b = createServer({ logLevel: 'silent' });
    setTimeout(() => process.stdout.write(a.transport + ' ' + b.transport), 50);
  });`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(out, 'LIGHTWS_TRANSPORT_FALLBACK socket socket');
});

test('without process.binding the client falls back to socket too, and the one warning is per process', () => {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `process.binding = undefined; import('${index}').then(({ createClient, createServer }) => {
    process.on('warning', (w) => process.stdout.write(w.code + ' '));
    const a = createClient({ logLevel: 'silent' }); const b = createClient({ transport: 'handle', logLevel: 'silent' });
    const c = createServer({ logLevel: 'silent' });
    setTimeout(() => process.stdout.write(a.transport + ' ' + b.transport + ' ' + c.transport), 50);
  });`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(out, 'LIGHTWS_TRANSPORT_FALLBACK socket socket socket');
});

test('an invalid transport value is the same TypeError for the client as for the server', () => {
  const message = "transport must be 'auto', 'handle' or 'socket', not tcp";
  assert.throws(() => createClient({ transport: 'tcp' as never }), { name: 'TypeError', message });
  assert.throws(() => createServer({ transport: 'tcp' as never }), { name: 'TypeError', message });
});
