/**
 * The fraud-detection walkthrough's function and data (Flink's), shared by the examples:
 * `fraud-detection.ts` runs it in Node, `cloudflare/` in Durable Objects.
 * An account is flagged when a small transaction (< 1.00) is followed within one minute
 * (event time) by a large one (> 500.00).
 */
// By module rather than from the package entry: the Worker bundle then never reaches the
// entry's filesystem storage and its `node:` imports (a project of its own imports 'eddy').
import { ValueStateDescriptor } from '../src/api/descriptors.ts';
import { KeyedProcessFunction, type Collector, type KeyedProcessContext, type OnTimerContext, type RuntimeContext } from '../src/api/functions.ts';
import type { ValueState } from '../src/api/state.ts';

/** A card transaction. */
export interface Transaction {
  accountId: string;
  amount: number;
  ts: number;
}

/** The large transaction that followed a small one on the same account. */
export interface Alert {
  accountId: string;
  amount: number;
  ts: number;
}

const SMALL = 1.0;
const LARGE = 500.0;
const ONE_MINUTE = 60_000;

/** Remembers a small transaction per account for one minute, flags a large one within it. */
export class FraudDetector extends KeyedProcessFunction<string, Transaction, Alert> {
  private flag!: ValueState<boolean>;
  private timer!: ValueState<number>;

  override open(ctx: RuntimeContext): void {
    this.flag = ctx.getState(new ValueStateDescriptor<boolean>('flag'));
    this.timer = ctx.getState(new ValueStateDescriptor<number>('timer-state'));
  }

  async processElement(tx: Transaction, ctx: KeyedProcessContext<string>, out: Collector<Alert>): Promise<void> {
    if (await this.flag.value()) {
      if (tx.amount > LARGE) out.collect({ accountId: tx.accountId, amount: tx.amount, ts: tx.ts });
      await this.cleanUp(ctx);
    }
    if (tx.amount < SMALL) {
      await this.flag.update(true);
      const timer = tx.ts + ONE_MINUTE;
      ctx.timerService().registerEventTimeTimer(timer);
      await this.timer.update(timer);
    }
  }

  override async onTimer(_ts: number, _ctx: OnTimerContext<string>): Promise<void> {
    await this.timer.clear();
    await this.flag.clear();
  }

  private async cleanUp(ctx: KeyedProcessContext<string>): Promise<void> {
    const timer = await this.timer.value();
    if (timer !== undefined) ctx.timerService().deleteEventTimeTimer(timer);
    await this.timer.clear();
    await this.flag.clear();
  }
}

/** Deterministic transactions: five accounts, two of which show the fraud pattern. */
export function transactions(count: number): Transaction[] {
  const txs: Transaction[] = [];
  for (let i = 0; i < count; i++) {
    const accountId = `acct-${i % 5}`;
    let amount = 10 + ((i * 37) % 400);
    if (i % 50 === 1) amount = 0.5; // small probe …
    if (i % 50 === 6) amount = 750; // … followed by a large one on the same account
    txs.push({ accountId, amount, ts: i * 1_000 });
  }
  return txs;
}
