/** The tiny job of the worker-start bench, from source (the worker loads it through tsx). */
import { defineJob } from '../src/index.ts';

/** One record through one operator: the run costs little beyond starting the worker. */
export const tiny = defineJob(import.meta.url, 'tiny', (env) => env.fromElements(1).map((x) => x + 1));
