import { bytesOf, type SendData } from '../api/send-result.js';
import { NO_REMOTE_STATS, type RemoteStats, type TopicBridge } from '../api/topic-bridge.js';
import type { Channel, HandoverMessage } from './channel.js';
import type { HandoverEndpoint } from './endpoint.js';

/**
 * While connections move, a publish in the old process must still reach the
 * subscribers that have left for the new one. This bridge, attached to the
 * old server for the handover, sends each publish down the same channel as
 * the connections: the new process delivers it to its own subscribers, in
 * order with the connections (a subscriber receives it from exactly one
 * side: from the old process while it is still there, from the new one once
 * adopted, since the publish travels behind every connection sent before it).
 * It attaches only to a server without a bridge of its own. A cluster's relay
 * does the same itself (cluster/cluster-bridge.ts, cluster/reload-relay.ts):
 * two independent deliveries, to the old process and to the new, would lose,
 * repeat and reorder publishes for the connections in flight. Redis does not
 * (docs/guides/deploy-and-reload.md says what holds then).
 */
export class ForwardBridge implements TopicBridge {
  private sent = 0;

  constructor(private readonly channel: Channel) {}

  attached(): void {}
  detached(): void {}
  topicOpened(): void {}
  topicClosed(): void {}
  broadcast(): void {}

  published(topic: string, data: SendData, isBinary: boolean): void {
    if (!this.channel.connected) return;
    // Copied here: `data` may be a view into the read slab.
    const bytes = typeof data === 'string' ? undefined : Buffer.from(bytesOf(data)).toString('base64');
    const message: HandoverMessage =
      bytes === undefined
        ? { lightws: 'handover-publish', topic, text: data as string, isBinary }
        : { lightws: 'handover-publish', topic, base64: bytes, isBinary };
    this.channel.send(message);
    this.sent++;
  }

  stats(): RemoteStats {
    return { ...NO_REMOTE_STATS, connected: 1, sent: this.sent };
  }
}

/** The new process's side: a forwarded publish, delivered to the subscribers here. */
export function deliverForwarded(endpoint: HandoverEndpoint, message: HandoverMessage): void {
  if (message.lightws !== 'handover-publish') return;
  const data = message.base64 !== undefined ? Buffer.from(message.base64, 'base64') : (message.text ?? '');
  if (message.topic === null) endpoint.reactor.broadcast(data, message.isBinary);
  else endpoint.reactor.publish(message.topic, data, message.isBinary);
}
