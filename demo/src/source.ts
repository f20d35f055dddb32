/**
 * The load generator as an eddy `Source`: unbounded, replayable, paced. Its splits are the
 * SPLITS residues of the transaction index; a split's position is how many of its
 * transactions it handed out, checkpointed with the job, so a restored job replays exactly
 * the transactions after its checkpoint. Rate and pause come over a BroadcastChannel from
 * the host worker (they change how fast, never what), and readers report their positions
 * on it, so the host knows how many transactions the world has seen.
 */
import type { Source, SourceReader } from 'eddy';
import { SPLITS, transaction, type Tx } from './scenario.ts';

/** A message on the demo's channel. */
export type ChannelMessage =
  | { readonly t: 'control'; readonly rate: number; readonly paused: boolean }
  | { readonly t: 'progress'; readonly split: number; readonly next: number };

/** The channel name of a job (one per job, so an old job's readers never steer a new one). */
export function channelName(jobName: string): string {
  return `eddy-demo:${jobName}`;
}

type Split = { split: number; next: number };

/** Pacing state shared by the readers of one worker (they share the worker's channel). */
class Control {
  rate: number;
  paused: boolean;
  readonly channel: BroadcastChannel;
  constructor(name: string, rate: number, paused: boolean) {
    this.rate = rate;
    this.paused = paused;
    this.channel = new BroadcastChannel(name);
    this.channel.onmessage = (e: MessageEvent<ChannelMessage>) => {
      if (e.data.t !== 'control') return;
      this.rate = e.data.rate;
      this.paused = e.data.paused;
    };
  }
}
const controls = new Map<string, Control>();

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Transactions per poll at most. eddy bounds each channel between tasks by a number of
 * record batches, so the batch size sets how many records can queue ahead of a checkpoint
 * barrier: at the engine's 1,024 a fast generator in front of a slow backend (SQLite or
 * IndexedDB at a few thousand records/s) queued tens of thousands, and a barrier took
 * seconds to get through them (at 100,000/s SQLite completed no checkpoint, so committed
 * nothing, within the benchmark's 10 s). Small batches keep that queue, and so the
 * checkpoint's alignment, to a fraction of a second, as Flink's buffer debloating does.
 */
const MAX_BATCH = 128;

/** The transactions source; `rate` and `paused` are where it starts until the host says otherwise. */
export function transactionSource(jobName: string, rate: number, paused: boolean): Source<Tx> {
  return {
    boundedness: 'unbounded',
    replayable: true,
    maxParallelism: SPLITS,
    createReader({ subtaskIndex, parallelism }): SourceReader<Tx> {
      const name = channelName(jobName);
      let control = controls.get(name);
      if (!control) controls.set(name, (control = new Control(name, rate, paused)));
      const c = control;
      let splits: Split[] = [];
      for (let s = subtaskIndex; s < SPLITS; s += parallelism) splits.push({ split: s, next: 0 });
      let tokens = 0;
      let last = performance.now();
      let reported = 0;
      const report = () => {
        for (const s of splits) c.channel.postMessage({ t: 'progress', split: s.split, next: s.next } satisfies ChannelMessage);
      };
      return {
        async poll(max) {
          const now = performance.now();
          // This reader's share of the rate: its splits out of all of them.
          const perMs = (c.rate * splits.length) / SPLITS / 1000;
          tokens = c.paused ? 0 : Math.min(tokens + (now - last) * perMs, Math.max(1, perMs * 100));
          last = now;
          if (now - reported > 100) {
            reported = now;
            report();
          }
          const n = Math.min(max, MAX_BATCH, Math.floor(tokens));
          if (n <= 0 || splits.length === 0) {
            await sleep(c.paused || perMs === 0 ? 50 : Math.min(50, Math.max(2, 1 / perMs)));
            return [];
          }
          tokens -= n;
          const at = Date.now();
          const out = new Array<Tx>(n);
          // Always the smallest next index among this reader's splits: event time never goes back within a reader.
          for (let j = 0; j < n; j++) {
            let min = splits[0]!;
            for (const s of splits) if (s.split + SPLITS * s.next < min.split + SPLITS * min.next) min = s;
            out[j] = transaction(min.split + SPLITS * min.next, at);
            min.next++;
          }
          return out;
        },
        snapshotSplits: () => splits.map((s) => ({ ...s })),
        restoreSplits(restored) {
          splits = (restored as Split[]).map((s) => ({ ...s }));
          report();
        },
      };
    },
  };
}
