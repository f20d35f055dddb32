/** Fakes of the platform's push objects and small waits for the live source and sink tests. */

/** Resolves once `cond()` holds; fails after `timeoutMs` naming what it waited for. */
export async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** An EventTarget that counts its listeners, so a test dispatches only once the source listens. */
export class TrackedTarget extends EventTarget {
  listeners = 0;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: AddEventListenerOptions | boolean): void {
    this.listeners++;
    super.addEventListener(type, listener, options);
  }
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: EventListenerOptions | boolean): void {
    this.listeners--;
    super.removeEventListener(type, listener, options);
  }
  /** Dispatches a `type` event whose `detail` is `detail`. */
  emit(type: string, detail?: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/** A message event as WebSocket, BroadcastChannel and EventSource dispatch them. */
export function messageEvent(type: string, data: unknown): Event {
  return Object.assign(new Event(type), { data });
}

/** A WebSocket stand-in (Node 20 has none): the test plays the server. */
export class FakeWebSocket extends TrackedTarget {
  readyState = 1;
  closedWith: number | undefined;
  receive(data: unknown): void {
    this.dispatchEvent(messageEvent('message', data));
  }
  /** The connection closes, cleanly or not. */
  drop(code: number, wasClean: boolean): void {
    this.readyState = 3;
    this.dispatchEvent(Object.assign(new Event('close'), { code, reason: wasClean ? 'bye' : '', wasClean }));
  }
  close(code?: number): void {
    this.closedWith = code;
    this.readyState = 3;
  }
}

/** An EventSource stand-in (Node 20 has none). */
export class FakeEventSource extends TrackedTarget {
  readyState = 1;
  closed = false;
  send(type: string, data: string): void {
    this.dispatchEvent(messageEvent(type, data));
  }
  giveUp(): void {
    this.readyState = 2;
    this.dispatchEvent(new Event('error'));
  }
  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
}
