/**
 * A task's watermark over its input channels (Flink's `StatusWatermarkValve`): the
 * minimum of the channels' watermarks, leaving out idle channels, never going back. A
 * channel that ended counts as the final watermark. When every channel still open is
 * idle, the task's output is idle (and the highest watermark of any channel goes out);
 * the first one active again makes it active.
 */
import { MAX_WATERMARK } from '../api/watermarks.ts';

/** What changed for the task's output after an input event. */
export interface ValveOutput {
  /** The task's new watermark, if it advanced. */
  watermark?: number;
  /** The task's output went idle (true) or became active again (false). */
  idle?: boolean;
}

/** What a valve returns when its output did not change (shared, never written to). */
export const NO_CHANGE: ValveOutput = Object.freeze({});

export class WatermarkValve {
  private readonly watermarks: number[];
  private readonly idle: boolean[];
  private readonly ended: boolean[];
  private current = -Infinity;
  private outputIdle = false;

  constructor(channels: number) {
    this.watermarks = new Array<number>(channels).fill(-Infinity);
    this.idle = new Array<boolean>(channels).fill(false);
    this.ended = new Array<boolean>(channels).fill(false);
  }

  /** A watermark arrived on `channel` (which makes an idle channel active). */
  watermark(channel: number, timestamp: number): ValveOutput {
    const wasIdle = this.idle[channel];
    this.idle[channel] = false;
    if (timestamp > this.watermarks[channel]) this.watermarks[channel] = timestamp;
    else if (!wasIdle) return {};
    return this.update();
  }

  /** Records arrived on `channel`: an idle channel is active again. */
  records(channel: number): ValveOutput {
    // Once per record batch: nothing to allocate when nothing changes.
    if (!this.idle[channel]) return NO_CHANGE;
    this.idle[channel] = false;
    return this.update();
  }

  /** `channel` declared itself idle or active. */
  idleness(channel: number, idle: boolean): ValveOutput {
    if (this.idle[channel] === idle || this.ended[channel]) return {};
    this.idle[channel] = idle;
    return this.update();
  }

  /** `channel` ended: it holds nothing back any more. */
  end(channel: number): ValveOutput {
    this.ended[channel] = true;
    this.idle[channel] = false;
    this.watermarks[channel] = MAX_WATERMARK;
    return this.update();
  }

  private update(): ValveOutput {
    const out: ValveOutput = {};
    let min = Infinity;
    let max = -Infinity;
    let anyActive = false;
    for (let c = 0; c < this.watermarks.length; c++) {
      const w = this.watermarks[c];
      if (w > max) max = w;
      if (this.idle[c]) continue;
      if (!this.ended[c]) anyActive = true;
      if (w < min) min = w;
    }
    const idle = !anyActive && this.idle.some((i) => i);
    if (idle !== this.outputIdle) {
      this.outputIdle = idle;
      out.idle = idle;
    }
    // Idle channels are left out. Once none is left to advance, every channel's watermark
    // is flushed: the highest of them goes out (as Flink's valve does).
    const watermark = anyActive ? min : max;
    if (watermark > this.current) {
      this.current = watermark;
      out.watermark = watermark;
    }
    return out;
  }
}
