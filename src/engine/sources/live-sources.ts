/**
 * Live sources over the web platform's push APIs, for `env.fromSource(...)`: DOM events
 * (`EventTargetSource`), `WebSocket` messages, `BroadcastChannel` messages and server-sent
 * events (`EventSource`). None can be paused, so each buffers up to `bufferSize` events
 * and applies `onOverflow` when full; none can replay (use them with a durable input log
 * for exactly-once after failures). A given object feeds one reader and is left open
 * when the job stops; a factory `(ctx) => object` is called per reader and attempt (so a
 * restart reconnects), and what it made is closed when the reader closes.
 */
import { ConfigurationError, SourceError } from '../../api/errors.ts';
import { checkEventTarget, type EventTargetLike, listen, type Provided, PushSource, type PushSink, type PushSourceOptions } from './push-source.ts';

/** A `MessageEvent`'s payload, the one member the message sources read. */
export interface MessageEventLike {
  readonly data: unknown;
}

/** Options of {@link EventTargetSource}. */
export interface EventTargetSourceOptions<E, T> extends PushSourceOptions {
  /** Makes the record of an event (and its arrival time in ms); default the event itself. */
  map?: (event: E, receivedAt: number) => T;
  /** An event type on the same target that ends the source cleanly (e.g. `'close'`). */
  endOn?: string;
}

/** Records from the events of type `type` dispatched on an `EventTarget` (DOM elements, `window`, any `EventTarget`). */
export class EventTargetSource<E = unknown, T = E> extends PushSource<EventTargetLike, E, T> {
  private readonly endOn: string | undefined;
  constructor(
    target: Provided<EventTargetLike>,
    private readonly type: string,
    options: EventTargetSourceOptions<E, T> = {},
  ) {
    super('source:event-target', target, options.map ?? ((e: E) => e as unknown as T), options);
    if (typeof type !== 'string' || type.length === 0)
      throw new ConfigurationError('needs the event type to listen to, e.g. "click"', { component: this.component });
    this.endOn = options.endOn;
  }
  protected check(target: unknown): asserts target is EventTargetLike {
    checkEventTarget(this.component, target, 'an EventTarget');
  }
  protected attach(target: EventTargetLike, sink: PushSink<E>): () => void {
    const listeners: Record<string, (event: never) => void> = { [this.type]: (e: E) => sink.push(e) };
    if (this.endOn !== undefined) listeners[this.endOn] = () => sink.end();
    return listen(target, listeners);
  }
  protected dispose(): void {}
}

/** The members of a `WebSocket` the source uses. */
export interface WebSocketLike extends EventTargetLike {
  readonly readyState: number;
  close(code?: number, reason?: string): void;
}

/** The close event of a WebSocket. */
interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

/** Options of the message sources (WebSocket, BroadcastChannel, EventSource). */
export interface MessageSourceOptions<T> extends PushSourceOptions {
  /** Makes the record of a message's `data` (and its arrival time in ms); default the data itself. */
  map?: (data: unknown, receivedAt: number) => T;
}

const CLOSED = 3;

/**
 * Records from a `WebSocket`'s messages (`event.data`). A clean close ends the source
 * (bounded); an abnormal close (`wasClean` false: connection lost or refused) fails the
 * job with a `SourceError` of code `SOURCE_FAILED`, so that the restart strategy reconnects
 * when the socket comes from a factory.
 */
export class WebSocketSource<T = unknown> extends PushSource<WebSocketLike, unknown, T> {
  constructor(socket: Provided<WebSocketLike>, options: MessageSourceOptions<T> = {}) {
    super('source:websocket', socket, options.map ?? ((d: unknown) => d as T), options);
  }
  protected check(target: unknown): asserts target is WebSocketLike {
    checkEventTarget(this.component, target, 'a WebSocket');
    if (typeof (target as WebSocketLike).close !== 'function') throw new ConfigurationError('needs a WebSocket (with close())', { component: this.component });
  }
  protected attach(socket: WebSocketLike, sink: PushSink<unknown>): () => void {
    if (socket.readyState === CLOSED) {
      sink.end();
      return () => {};
    }
    return listen(socket, {
      message: (e: MessageEventLike) => sink.push(e.data),
      close: (e: CloseEventLike) => {
        if (e.wasClean) sink.end();
        else
          sink.fail(
            new SourceError('SOURCE_FAILED', `the WebSocket closed abnormally (code ${e.code}${e.reason ? `: ${e.reason}` : ''})`, {
              component: this.component,
            }),
          );
      },
    });
  }
  protected dispose(socket: WebSocketLike): void {
    if (socket.readyState !== CLOSED) socket.close(1000, 'eddy source closed');
  }
}

/** The members of a `BroadcastChannel` the source uses. */
export interface BroadcastChannelLike extends EventTargetLike {
  close(): void;
}

/**
 * Records from a `BroadcastChannel`'s messages (other tabs, workers or, in Node, threads
 * of the same origin). A channel has no end of its own: pass `signal` to end the source.
 * A message that cannot be deserialized (`messageerror`) fails the job (`SOURCE_FAILED`).
 */
export class BroadcastChannelSource<T = unknown> extends PushSource<BroadcastChannelLike, unknown, T> {
  constructor(channel: Provided<BroadcastChannelLike>, options: MessageSourceOptions<T> = {}) {
    super('source:broadcast-channel', channel, options.map ?? ((d: unknown) => d as T), options);
  }
  protected check(target: unknown): asserts target is BroadcastChannelLike {
    checkEventTarget(this.component, target, 'a BroadcastChannel');
  }
  protected attach(channel: BroadcastChannelLike, sink: PushSink<unknown>): () => void {
    return listen(channel, {
      message: (e: MessageEventLike) => sink.push(e.data),
      messageerror: () => sink.fail(new SourceError('SOURCE_FAILED', 'a message could not be deserialized (messageerror)', { component: this.component })),
    });
  }
  protected dispose(channel: BroadcastChannelLike): void {
    channel.close();
  }
}

/** The members of an `EventSource` the source uses. */
export interface EventSourceLike extends EventTargetLike {
  readonly readyState: number;
  close(): void;
}

/** Options of {@link ServerSentEventSource}. */
export interface ServerSentEventSourceOptions<T> extends MessageSourceOptions<T> {
  /** The event types to read; default `['message']` (events without an `event:` field). */
  events?: readonly string[];
  /** An event type the server sends to end the stream cleanly (e.g. `'end'`). */
  endOn?: string;
}

const SSE_CLOSED = 2;

/**
 * Records from server-sent events (an `EventSource`), their `data` strings. The browser
 * reconnects by itself after a dropped connection; once it gives up (`readyState` CLOSED
 * after an error) the job fails with `SOURCE_FAILED`. The server ends the stream cleanly
 * with the `endOn` event; `signal` ends it from the client.
 */
export class ServerSentEventSource<T = unknown> extends PushSource<EventSourceLike, unknown, T> {
  private readonly events: readonly string[];
  private readonly endOn: string | undefined;
  constructor(eventSource: Provided<EventSourceLike>, options: ServerSentEventSourceOptions<T> = {}) {
    super('source:event-source', eventSource, options.map ?? ((d: unknown) => d as T), options);
    this.events = options.events ?? ['message'];
    if (!Array.isArray(this.events) || this.events.length === 0 || !this.events.every((e) => typeof e === 'string' && e.length > 0)) {
      throw new ConfigurationError('events must be a non-empty array of event types', { component: this.component });
    }
    this.endOn = options.endOn;
  }
  protected check(target: unknown): asserts target is EventSourceLike {
    checkEventTarget(this.component, target, 'an EventSource');
  }
  protected attach(source: EventSourceLike, sink: PushSink<unknown>): () => void {
    const listeners: Record<string, (event: never) => void> = {
      error: () => {
        if (source.readyState === SSE_CLOSED) {
          sink.fail(new SourceError('SOURCE_FAILED', 'the EventSource closed after an error and will not reconnect', { component: this.component }));
        }
      },
    };
    for (const type of this.events) listeners[type] = (e: MessageEventLike) => sink.push(e.data);
    if (this.endOn !== undefined) listeners[this.endOn] = () => sink.end();
    return listen(source, listeners);
  }
  protected dispose(source: EventSourceLike): void {
    source.close();
  }
}
