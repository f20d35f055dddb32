/**
 * The live charts (uPlot): a rolling two minutes of samples, redrawn once per sample.
 * uPlot draws on canvas in well under a millisecond per chart, so the page's main thread
 * stays free while the job runs in workers.
 */
import uPlot from 'uplot';

const KEEP = 240;
const COLORS = ['#0b63c5', '#d9480f', '#2b8a3e', '#862e9c', '#c92a2a'];

/** One chart: a title, a unit and named series, fed one sample at a time. */
export class LiveChart {
  private readonly plot: uPlot;
  private readonly data: number[][];
  private names: string[];
  private readonly format: ((value: number) => string) | undefined;

  constructor(parent: HTMLElement, title: string, unit: string, names: string[], format?: (value: number) => string) {
    this.names = names;
    this.format = format;
    this.data = [[], ...names.map(() => [])];
    const box = document.createElement('figure');
    box.setAttribute('aria-label', title);
    parent.append(box);
    this.plot = new uPlot(this.options(title, unit, names, box.clientWidth || 320), this.data as uPlot.AlignedData, box);
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(200, box.clientWidth), height: 160 })).observe(box);
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
    this.data[0]!.push(t / 1000);
    this.names.forEach((_, i) => this.data[i + 1]!.push(values[i] ?? (null as unknown as number)));
    if (this.data[0]!.length > KEEP) for (const s of this.data) s.shift();
    this.plot.setData(this.data as uPlot.AlignedData);
  }

  /** Renames the series when their number changes (per-worker load after a rescale). */
  resize(names: string[]): void {
    if (names.length === this.names.length) return;
    for (let i = this.names.length; i > 0; i--) this.plot.delSeries(i);
    this.data.length = 1;
    names.forEach((label, i) => {
      this.plot.addSeries({ label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true }, i + 1);
      this.data.push(this.data[0]!.map(() => null as unknown as number));
    });
    this.names = names;
  }
}
