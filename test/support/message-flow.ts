/** Something a test sends text through (a `ws` WebSocket, as the handover tests hold it). */
export interface Sender {
  ws: { send(data: string): void };
}

/**
 * Numbered messages `m1`, `m2`, … from every peer, one round every `everyMs`, until
 * `stop()`, which resolves with the number of rounds sent: the traffic that flows
 * through a handover or a reload while the tests move the connections.
 */
export function startFlow(peers: readonly Sender[], everyMs: number): { stop(): Promise<number> } {
  let sent = 1;
  let flowing = true;
  const sends = (async () => {
    while (flowing) {
      for (const peer of peers) peer.ws.send(`m${sent}`);
      sent++;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      flowing = false;
      await sends;
      return sent - 1;
    },
  };
}
