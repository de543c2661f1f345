import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const index = fileURLToPath(new URL('../../src/index.js', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
/** Node 20 names the permission model --experimental-permission; 22+ accept --permission. */
const permissionFlag = Number(process.versions.node.split('.')[0]) >= 22 ? '--permission' : '--experimental-permission';
const netScoped = process.allowedNodeEnvironmentFlags.has('--allow-net');

function underPermission(extra: string[], script: string): string {
  return execFileSync(
    process.execPath,
    [permissionFlag, `--allow-fs-read=${root}*`, ...extra, '--input-type=module', '-e', script],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

const listenScript = `import { createServer, createClient } from ${JSON.stringify(index)};
const server = createServer({ message(c, d) { c.send(d); } });
const report = (what) => (e) => console.log(what + ': ' + e.code + ': ' + e.message);
server.listen(0, '127.0.0.1').then(async (a) => {
  console.log('listening');
  await server.close();
}, report('listen'));
createClient().connect('ws://127.0.0.1:9/').then(() => console.log('connected'), report('connect'));`;

test(
  'under --permission without network access, listen and connect reject with what is refused and the flag that allows it; the process lives',
  { skip: !netScoped && 'this Node does not restrict the network under --permission' },
  () => {
    const out = underPermission([], listenScript);
    assert.match(out, /listen: ERR_ACCESS_DENIED: listen refused by Node's permission model: .*--allow-net/);
    assert.match(out, /connect: ERR_ACCESS_DENIED: connect refused .*--allow-net/);
  },
);

test('under --permission with network access (or a Node whose permission model does not cover it), listen works', () => {
  const out = underPermission(netScoped ? ['--allow-net'] : [], listenScript);
  assert.match(out, /listening/);
  assert.doesNotMatch(out, /listen:/);
});
