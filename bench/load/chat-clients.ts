/**
 * The chat room's clients, after Bun's public chat-room benchmark (oven-sh/bun,
 * bench/websocket-server: "a simple but very active chat room"), written here from its
 * description: `--clients` clients join one room; every round each client sends `--lines` short
 * text lines; the server prefixes each line with the sender's name and publishes it to the whole
 * room, the sender included; a round ends when every client has received every line, and the
 * next begins. The same client runs against every server.
 *
 *   bun dist/bench/load/chat-clients.js --port P [--clients 32] [--lines 1600] [--warmup 2] [--seconds 10]
 *                                      [--rooms 1] [--talk 1]
 *
 * With --rooms R, client i joins room i mod R (`?room=rN`), and in each room only the first
 * --talk (a fraction) of its members send: 100 rooms of 100 members with 10 % talking is
 * `--clients 10000 --rooms 100 --talk 0.1`.
 *
 * Runs under Bun, or Node 22+ (the global WebSocket; Node 20 with --experimental-websocket).
 * stdout carries JSON lines: {"ready":true} once every client is in, {"start":true} when the
 * measured window opens (after --warmup s), then {"done":true,"samples":[deliveries per second,
 * one per second of the window],"deliveries":N,"latency":{"p50","p99","count"}} (ms). Each line
 * carries the time it was sent; client 0 records the delivery latency of every line it gets.
 */
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    clients: { type: 'string', default: '32' },
    lines: { type: 'string', default: '1600' },
    warmup: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '10' },
    rooms: { type: 'string', default: '1' },
    talk: { type: 'string', default: '1' },
  },
});
const CLIENTS = Number(values.clients);
const LINES = Number(values.lines);
const ROOMS = Number(values.rooms);
/** Client i is in room i mod ROOMS; in each room, the first `talk` of its members (a fraction) send lines. */
const roomOf = (i: number): number => i % ROOMS;
const membersOf = (room: number): number => Math.floor(CLIENTS / ROOMS) + (room < CLIENTS % ROOMS ? 1 : 0);
const talks = (i: number): boolean => Math.floor(i / ROOMS) < Math.ceil(Number(values.talk) * membersOf(roomOf(i)));
let perRound = 0;
for (let room = 0; room < ROOMS; room++) {
  const members = membersOf(room);
  perRound += Math.ceil(Number(values.talk) * members) * LINES * members;
}
const url = `ws://${values.host}:${values.port}/`;

let deliveries = 0;
let pending = 0;
let measuring = false;
const latencies: number[] = [];
const say = (message: object): void => void process.stdout.write(`${JSON.stringify(message)}\n`);

function join(i: number): Promise<WebSocket> {
  const ws = new WebSocket(`${url}?name=Client${i}&room=r${roomOf(i)}`);
  ws.onmessage = (event: MessageEvent) => {
    deliveries++;
    if (i === 0 && measuring) {
      const text = event.data as string;
      latencies.push(
        performance.now() - Number(text.slice(text.indexOf(': ') + 2, text.indexOf(' ', text.indexOf(': ') + 2))),
      );
    }
    if (--pending === 0) round();
  };
  return new Promise<WebSocket>((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`client ${i} could not connect to ${url}`));
  });
}
// In steps of 500, so that a listen backlog never drops a handshake.
const sockets: WebSocket[] = [];
for (let from = 0; from < CLIENTS; from += 500) {
  const step = Array.from({ length: Math.min(500, CLIENTS - from) }, (_, k) => join(from + k));
  sockets.push(...(await Promise.all(step)));
}
const talkers = sockets.filter((_, i) => talks(i));
say({ ready: true, perRound });

/** Every client sends its lines; the round is over once each of them has reached every client. */
function round(): void {
  pending = perRound;
  for (let line = 0; line < LINES; line++) {
    for (const ws of talkers) ws.send(`${performance.now().toFixed(3)} hello from the room ${line}`);
  }
}
round();

const samples: number[] = [];
let last = 0;
let elapsed = 0;
const timer = setInterval(() => {
  elapsed++;
  if (!measuring && elapsed >= Number(values.warmup)) {
    measuring = true;
    last = deliveries;
    say({ start: true });
    return;
  }
  if (!measuring) return;
  samples.push(deliveries - last);
  last = deliveries;
  if (samples.length < Number(values.seconds)) return;
  clearInterval(timer);
  latencies.sort((a, b) => a - b);
  const at = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  say({
    done: true,
    samples,
    deliveries: samples.reduce((a, b) => a + b, 0),
    latency: { p50: at(0.5), p99: at(0.99), count: latencies.length },
  });
  for (const ws of sockets) ws.close();
  setTimeout(() => process.exit(0), 200);
}, 1000);
