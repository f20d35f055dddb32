/**
 * The live charts (uPlot): a rolling two minutes of samples, one per second. Cheap to
 * refresh, so the page's main thread stays free while the job runs in workers: the
 * columns have a fixed size once full (samples move down in place, nothing grows or is
 * reallocated), and a chart scrolled out of view only records its samples and draws
 * them when it comes back.
 */
import uPlot from 'uplot';

const KEEP = 120;
const COLORS = ['#0b63c5', '#d9480f', '#2b8a3e', '#862e9c', '#c92a2a'];

/** One chart: a title, a unit and named series, fed one sample at a time. */
export class LiveChart {
  private readonly plot: uPlot;
  /** Time, then one column per series (null: a gap). */
  private readonly data: Array<Array<number | null>>;
  private readonly names: string[];
  private shown: number;
  private readonly format: ((value: number) => string) | undefined;
  private visible = true;
  private stale = false;

  constructor(parent: HTMLElement, title: string, unit: string, names: string[], format?: (value: number) => string) {
    this.names = names;
    this.shown = names.length;
    this.format = format;
    this.data = [[], ...names.map(() => [])];
    const box = document.createElement('figure');
    box.setAttribute('aria-label', title);
    parent.append(box);
    let width = box.clientWidth || 320;
    this.plot = new uPlot(this.options(title, unit, names, width), this.data as uPlot.AlignedData, box);
    new ResizeObserver(() => {
      const w = Math.max(200, box.clientWidth);
      if (w !== width) this.plot.setSize({ width: (width = w), height: 160 });
    }).observe(box);
    new IntersectionObserver(([entry]) => {
      this.visible = entry?.isIntersecting ?? true;
      if (this.visible && this.stale) this.draw();
    }).observe(box);
  }

  private options(title: string, unit: string, names: string[], width: number): uPlot.Options {
    return {
      title,
      width,
      height: 160,
      scales: { x: { time: true } },
      legend: { live: false },
      axes: [{}, { label: unit, size: 70, ...(this.format ? { values: (_u: uPlot, ticks: number[]) => ticks.map(this.format!) } : {}) }],
      series: [{}, ...names.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true }))],
    };
  }

  /** Adds a sample at wall-clock time `t` (ms); a missing value leaves a gap. */
  push(t: number, values: ReadonlyArray<number | undefined>): void {
    const full = this.data[0]!.length >= KEEP;
    this.data.forEach((column, i) => {
      const value = i === 0 ? t / 1000 : (values[i - 1] ?? null);
      if (full) {
        column.copyWithin(0, 1);
        column[KEEP - 1] = value;
      } else column.push(value);
    });
    if (this.visible) this.draw();
    else this.stale = true;
  }

  private draw(): void {
    this.stale = false;
    this.plot.setData(this.data as uPlot.AlignedData);
  }

  /** Shows the first `n` series only (per-worker load at the job's parallelism); hiding is cheaper than removing. */
  show(n: number): void {
    if (n === this.shown) return;
    this.shown = n;
    for (let i = 1; i <= this.names.length; i++) this.plot.setSeries(i, { show: i <= n });
  }
}
