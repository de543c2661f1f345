/** About what a relay message costs the primary while queued: its payload and topic (JSON adds little). */
export function relaySize(m: Partial<Extract<RelayMessage, { lightws: 'relay' }>>): number {
  const payload =
    typeof m.text === 'string' ? Buffer.byteLength(m.text) : typeof m.base64 === 'string' ? m.base64.length : 0;
  return payload + (typeof m.topic === 'string' ? Buffer.byteLength(m.topic) : 0) + 40;
}

/** What travels between a worker and the primary (both ways for 'relay'). */
export type RelayMessage =
  | { lightws: 'topic'; topic: string; subscribed: boolean }
  | {
      lightws: 'relay';
      topic: string | null;
      text?: string;
      base64?: string;
      /** Worker → primary: this worker's count of its publishes, this one included. */
      id?: number;
      /** Primary → the old worker of a slot being reloaded: the primary's number for this slot (reload-relay.ts). */
      seq?: number;
      /**
       * A slot's successor's publish (its `id`), which its adopted connections did not have: successor →
       * primary, send it back to me (it held it back from them); primary → the old worker while the slot
       * reloads (every successor's publish: those in flight did not have it either), and on down the
       * handover channel; primary → successor once it has the slot (cluster-bridge.ts `adoptedSet`).
       */
      own?: number;
    };

/** A relayed publish's payload as it travels: text as is, binary in base64. */
export type Payload = { text: string; base64?: undefined } | { base64: string; text?: undefined };
