/**
 * The chat room's clients, after Bun's public chat-room benchmark (oven-sh/bun,
 * bench/websocket-server: "a simple but very active chat room"), written here from its
 * description: `--clients` clients join one room; every round each client sends `--lines` short
 * text lines; the server prefixes each line with the sender's name and publishes it to the whole
 * room, the sender included; a round ends when every client has received every line, and the
 * next begins. The same client runs against every server.
 *
 *   bun dist/bench/load/chat-clients.js --port P [--clients 32] [--lines 1600] [--warmup 2] [--seconds 10]
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
  },
});
const CLIENTS = Number(values.clients);
const LINES = Number(values.lines);
const url = `ws://${values.host}:${values.port}/`;

let deliveries = 0;
let pending = 0;
let measuring = false;
const latencies: number[] = [];
const say = (message: object): void => void process.stdout.write(`${JSON.stringify(message)}\n`);

const sockets: WebSocket[] = await Promise.all(
  Array.from({ length: CLIENTS }, (_, i) => {
    const ws = new WebSocket(`${url}?name=Client${i}`);
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
  }),
);
say({ ready: true });

/** Every client sends its lines; the round is over once each of them has reached every client. */
function round(): void {
  pending = CLIENTS * CLIENTS * LINES;
  for (let line = 0; line < LINES; line++) {
    for (const ws of sockets) ws.send(`${performance.now().toFixed(3)} hello from the room ${line}`);
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
