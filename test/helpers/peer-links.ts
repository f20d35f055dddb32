/** Two worker peer links joined by a real MessageChannel, as two workers would hold them. */
import { MessageChannel } from 'node:worker_threads';
import type { InputGate } from '../../src/engine/input-gate.ts';
import { PeerLink } from '../../src/workers/remote-channel.ts';
import type { MessagePortLike } from '../../src/workers/worker-protocol.ts';

/** `sender` sends to task 'c', whose input gate on the receiver's side is `gate`; `errors` collects what either link reports. */
export function peerLinks(credits: number, gate: InputGate) {
  const { port1, port2 } = new MessageChannel();
  const errors: unknown[] = [];
  const sender = new PeerLink(
    port1 as unknown as MessagePortLike,
    credits,
    () => undefined,
    (e) => errors.push(e),
  );
  const receiver = new PeerLink(
    port2 as unknown as MessagePortLike,
    credits,
    (a) => (a === 'c' ? gate : undefined),
    (e) => errors.push(e),
  );
  return { sender, receiver, errors, close: () => (sender.close(), receiver.close()) };
}
