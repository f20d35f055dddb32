/**
 * The default executor: every task of the job in the current thread.
 */
import type { JobGraph } from './graph.ts';
import { deploy, type Deployment, type ExecutionOptions, type Executor } from './executor.ts';

/** Every task of the job as an async loop in the current thread (the default executor). */
export class LocalExecutor implements Executor {
  readonly name = 'local';
  deploy(graph: JobGraph, options: ExecutionOptions): Promise<Deployment> {
    return deploy(graph, options);
  }
}
