/**
 * The Worker of test/cloudflare/durable-object.test.ts: one Durable Object class that runs
 * the backend scenarios (`do-scenarios.ts`) and the alarm-timer scenarios, answering JSON.
 * `POST /<scenario>` with an optional JSON body; `?object=<name>` picks the object.
 *
 * The alarm scenario fires timers a, b and c from the alarm with a failure plan by attempt:
 * attempt 0 fires a, then b's callback writes its effect and throws (b rolls back, the
 * handler fails); attempt 1 (a retry) fires b and c, then the handler throws after them;
 * attempt 2 finds nothing due. Effects are counted in `DurableObjectStateBackend` state.
 */
import { DurableObjectTimers, type DurableObjectStorageLike, type DurableObjectTimer } from '../../../src/backends/durable-object/index.ts';
import { keyGroupForKey, keyGroupRangeForSubtask } from '../../../src/format/key-groups.ts';
import { MAX_P } from '../fixture.ts';
import { groupsFromWire } from '../wire.ts';
import { cache, kinds, open, replace, restoreInto, rollback, snapshotOfFixture, tooBig, ttl } from './do-scenarios.ts';

interface Ctx {
  readonly storage: DurableObjectStorageLike;
}

interface AlarmInfo {
  readonly retryCount: number;
  readonly isRetry: boolean;
}

/** Runs the scenarios; its alarm fires the timers. */
export class TestObject {
  /** Every call of a timer callback (attempt: key), kept in memory: it sees calls whose effects rolled back. */
  private readonly calls: string[] = [];
  private readonly alarms: AlarmInfo[] = [];

  constructor(private readonly ctx: Ctx) {}

  private timers(scope: string): DurableObjectTimers {
    return new DurableObjectTimers(this.ctx.storage, { scope, operatorName: 'Timers (1/1)' });
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const body = request.method === 'POST' ? await request.json().catch(() => ({})) : {};
    try {
      return Response.json(await this.run(url.pathname.slice(1), body as never));
    } catch (e) {
      return new Response(String((e as Error)?.stack ?? e), { status: 500 });
    }
  }

  private async run(scenario: string, body: never): Promise<unknown> {
    const { storage } = this.ctx;
    switch (scenario) {
      case 'kinds':
        return kinds(storage);
      case 'ttl':
        return ttl(storage);
      case 'too-big':
        return tooBig(storage);
      case 'snapshot':
        return snapshotOfFixture(storage);
      case 'restore':
        return restoreInto(storage, body);
      case 'cache':
        return cache(storage as Parameters<typeof cache>[0]);
      case 'rollback':
        return rollback(storage as Parameters<typeof rollback>[0]);
      case 'replace':
        return replace(storage, body);
      case 'timers':
        return this.timerScenario();
      case 'restore-timers':
        return this.restoreTimers(body);
      case 'arm':
        return this.arm();
      case 'status':
        return this.status();
      default:
        throw new Error(`no scenario ${scenario}`);
    }
  }

  /** Registration, dedup, deletion and the alarm following the earliest processing-time timer. */
  private async timerScenario(): Promise<unknown> {
    const t = this.timers('plain');
    const now = Date.now();
    const kg = (k: string) => keyGroupForKey(k, MAX_P);
    const added = [
      t.register('PROCESSING_TIME', 'k1', kg('k1'), now + 60_000),
      t.register('PROCESSING_TIME', 'k2', kg('k2'), now + 30_000),
      t.register('PROCESSING_TIME', 'k2', kg('k2'), now + 30_000),
      t.register('EVENT_TIME', 'k3', kg('k3'), 5),
      t.register('PROCESSING_TIME', 'k3', kg('k3'), now + 45_000, 'window-1'),
    ];
    const alarms: Array<number | null> = [await t.syncAlarm()];
    alarms.push(await this.ctx.storage.getAlarm());
    t.delete('PROCESSING_TIME', 'k2', now + 30_000);
    alarms.push(await t.syncAlarm(), await this.ctx.storage.getAlarm());
    const snapshot = [...t.snapshot()].map(([group, bytes]) => [group, Array.from(bytes)]);
    const sizes = [t.size('PROCESSING_TIME'), t.size('EVENT_TIME')];
    const ofK3 = t.timersOf('k3');
    const event = t.pollDue('EVENT_TIME', 10);
    const eventAgain = t.pollDue('EVENT_TIME', 10) ?? null;
    t.delete('PROCESSING_TIME', 'k1', now + 60_000);
    t.delete('PROCESSING_TIME', 'k3', now + 45_000, 'window-1');
    alarms.push(await t.syncAlarm(), await this.ctx.storage.getAlarm());
    return { now, added, alarms, sizes, ofK3, snapshot, event, eventAgain, next: t.nextProcessingTime() ?? null };
  }

  /** Restores an engine timer snapshot into subtask 1 of 2 (key groups 64..127) and polls everything it holds, in order. */
  private restoreTimers(body: { snapshot: Array<[number, string]> }): unknown {
    const t = new DurableObjectTimers(this.ctx.storage, { scope: 'restored', keyGroupRange: keyGroupRangeForSubtask(MAX_P, 2, 1) });
    t.restore(groupsFromWire(body.snapshot));
    const polled: unknown[] = [];
    for (const domain of ['EVENT_TIME', 'PROCESSING_TIME'] as const) {
      for (let timer = t.pollDue(domain, Infinity); timer !== undefined; timer = t.pollDue(domain, Infinity)) polled.push(timer);
    }
    return { polled };
  }

  /** Registers three timers due in 200 ms and sets the alarm. */
  private async arm(): Promise<unknown> {
    const t = this.timers('alarm');
    const due = Date.now() + 200;
    ['a', 'b', 'c'].forEach((k, i) => t.register('PROCESSING_TIME', k, keyGroupForKey(k, MAX_P), due + i));
    return { alarm: await t.syncAlarm() };
  }

  async alarm(info: AlarmInfo = { retryCount: 0, isRetry: false }): Promise<void> {
    const attempt = this.alarms.length;
    this.alarms.push({ retryCount: info.retryCount, isRetry: info.isRetry });
    const t = this.timers('alarm');
    const kb = open(this.ctx.storage, 'alarm-effects');
    const fire = (timer: DurableObjectTimer) => {
      this.calls.push(`${attempt}:${String(timer.key)}`);
      kb.setCurrentKey(timer.key, timer.keyGroup);
      const fired = kb.valueTable<number>('fired', 'value');
      fired.put('', ((fired.get('') as number | undefined) ?? 0) + 1);
      if (attempt === 0 && timer.key === 'b') throw new Error('b fails on the first attempt, after writing its effect');
    };
    t.fireDue('PROCESSING_TIME', Date.now(), fire);
    await t.syncAlarm();
    if (attempt === 1) throw new Error('the handler fails after firing, on the second attempt');
  }

  /** What happened: alarm invocations, callback calls, the effects in state, timers left, the alarm. */
  private async status(): Promise<unknown> {
    const kb = open(this.ctx.storage, 'alarm-effects');
    const fired: Record<string, number | null> = {};
    for (const k of ['a', 'b', 'c']) {
      kb.setCurrentKey(k, keyGroupForKey(k, MAX_P));
      fired[k] = (kb.valueTable<number>('fired', 'value').get('') as number | undefined) ?? null;
    }
    return { alarms: this.alarms, calls: this.calls, fired, pending: this.timers('alarm').size('PROCESSING_TIME'), alarm: await this.ctx.storage.getAlarm() };
  }
}

interface Env {
  readonly OBJECT: { idFromName(name: string): unknown; get(id: unknown): { fetch(request: Request): Promise<Response> } };
}

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    const name = new URL(request.url).searchParams.get('object') ?? 'default';
    return env.OBJECT.get(env.OBJECT.idFromName(name)).fetch(request);
  },
};
