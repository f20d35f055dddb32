/**
 * One tab at a time runs the demo. The tabs of an origin share its storage (the OPFS
 * checkpoints, the IndexedDB state and output, the job saved in localStorage), so a second
 * tab would wait forever for the first one's checkpoint lock while showing the first one's
 * output, and its "Start a new job" would delete the checkpoints the first one runs on. A
 * Web Lock held for the page's life says which tab runs the demo; another tab may take it
 * over, and the tab that loses it stops its job, so that the new one resumes the same job
 * from its newest checkpoint.
 */
const LOCK = 'eddy-demo-tab';

/**
 * Claims the demo for this tab: `granted` runs once this tab has it, which without `steal`
 * is when no other tab holds it (at once, or when that tab closes); `steal` takes it from
 * the tab that has it. `lost` runs when another tab takes it over later.
 */
export function claimTab(steal: boolean, granted: () => void, lost: () => void): void {
  // Without Web Locks (old browsers) every tab runs its own, as before.
  if (!('locks' in navigator)) {
    granted();
    return;
  }
  navigator.locks
    .request(LOCK, { steal }, () => {
      granted();
      // Held until the page goes away, or until another tab steals it (then request() rejects).
      return new Promise<void>(() => undefined);
    })
    .catch(() => lost());
}
