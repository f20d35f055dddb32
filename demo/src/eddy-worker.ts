/**
 * The entry of the eddy workers the host starts: eddy's worker protocol with the demo's
 * job built in (a production build merges job modules into bundles, so workers cannot
 * import them by URL; see README "Web Workers with a bundler").
 */
import { serveWebWorker } from 'eddy/runtimes/web-workers';
import { demoJob } from './job.ts';

// A name of this worker for the SQLite backend's OPFS pool, which one worker at a time may hold.
(globalThis as { eddyDemoWorker?: string }).eddyDemoWorker = Math.random().toString(36).slice(2, 10);
serveWebWorker({ jobs: [demoJob] });
