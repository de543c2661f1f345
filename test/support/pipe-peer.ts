/**
 * The far end of a handover pipe for test/handover/pipe-channel.test.ts: run with the pipe's other
 * end as its descriptor 4 (LIGHTWS_HANDOVER_FD). Each connection that arrives (`handover-conn`) is
 * acknowledged at once; then its socket is read and what it carried comes back as a
 * `handover-publish` (topic: the id, text: the bytes). `handover-done` makes it exit without a word
 * (the test then sees the pipe close).
 */
import { Socket } from 'node:net';
import { openInheritedChannel } from '../../src/handover/pipe-pair.js';

const channel = openInheritedChannel();
if (channel === null) throw new Error('no handover pipe');
channel.on('message', (message, handle) => {
  if (message.lightws === 'handover-done') process.exit(0);
  if (message.lightws !== 'handover-conn') return;
  channel.send({ lightws: 'handover-ack', ids: [message.id] });
  if (handle === undefined) {
    channel.send({ lightws: 'handover-publish', topic: String(message.id), text: '(no handle)', isBinary: false });
    return;
  }
  const socket = new Socket({ handle } as ConstructorParameters<typeof Socket>[0]);
  socket.setEncoding('utf8');
  socket.once('data', (text: string) => {
    channel.send({
      lightws: 'handover-publish',
      topic: String(message.id),
      text: `${message.wire}:${text}`,
      isBinary: false,
    });
    socket.destroy();
  });
});
