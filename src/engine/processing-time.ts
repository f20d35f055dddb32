/**
 * Wakes operators when the processing-time clock reaches their next timer: on a change
 * of an observable clock (ManualClock), or with a platform timer for the system clock.
 * Only the earliest wake-up per operator is kept; the operator schedules the next one.
 */
import { isObservableClock, type Clock } from '../api/clock.ts';
import { setLongTimeout } from './long-timer.ts';
import type { ChainMember, StreamTask } from './task.ts';

export class ProcessingTimeScheduler {
  private readonly pending = new Map<ChainMember, { time: number; cancel: () => void }>();

  constructor(private readonly clock: Clock) {}

  /** Queues `onProcessingTime` of `member` on its task's mailbox once the clock reaches `time`. */
  schedule(task: StreamTask, member: ChainMember, time: number): void {
    const existing = this.pending.get(member);
    if (existing && existing.time <= time) return;
    existing?.cancel();
    const clock = this.clock;
    const fire = () => {
      this.pending.get(member)?.cancel();
      this.pending.delete(member);
      task.scheduleProcessingTime(member, () => clock.now());
    };
    if (clock.now() >= time) {
      fire();
      return;
    }
    let cancel: () => void;
    if (isObservableClock(clock)) {
      cancel = clock.subscribe((now) => {
        if (now >= time) fire();
      });
    } else {
      // Timers far ahead (now + 3e9 ms) wait in chunks instead of firing every millisecond.
      cancel = setLongTimeout(fire, Math.max(0, time - clock.now()));
    }
    this.pending.set(member, { time, cancel });
  }

  /** Cancels every pending wake-up (the job ended). */
  cancelAll(): void {
    for (const p of this.pending.values()) p.cancel();
    this.pending.clear();
  }
}
