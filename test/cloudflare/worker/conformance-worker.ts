/**
 * A Worker that runs the conformance suites inside workerd, in a Durable Object (where a
 * Durable Object state backend finds its storage). It is bundled by esbuild with `vitest`
 * aliased to the portable runner (test/portable/vitest-shim.ts), so the suites run
 * unchanged. `GET /run?suite=<state-backend|ttl|ttl-in-place|checkpoint-storage|r2-specific>&target=<name>` answers
 * `{ declared, results }`: how many cases the suite declared and each one's result.
 */
import { checkpointStorageSuite } from '../../conformance/checkpoint-storage.suite.ts';
import { runStateBackendSuite } from '../../conformance/state-backend/index.ts';
import { runTtlSuite } from '../../conformance/ttl/index.ts';
import { runTtlInPlaceSuite } from '../../ttl/in-place.suite.ts';
import { collectCases, runCases } from '../../portable/vitest-shim.ts';
import { r2SpecificCases } from './r2-cases.ts';
import { CHECKPOINT_STORAGES, IN_PLACE_CAPABILITIES, STATE_BACKENDS, type WorkerdHost } from './targets.ts';

interface Env extends Record<string, unknown> {
  readonly CONFORMANCE: { idFromName(name: string): unknown; get(id: unknown): { fetch(request: Request): Promise<Response> } };
}

function define(suite: string, target: string, host: WorkerdHost): (() => void) | undefined {
  const backend = STATE_BACKENDS[target];
  if (suite === 'state-backend' && backend) return () => runStateBackendSuite(target, () => backend(host));
  if (suite === 'ttl' && backend) return () => runTtlSuite(target, () => backend(host));
  const inPlace = IN_PLACE_CAPABILITIES[target];
  if (suite === 'ttl-in-place' && backend && inPlace) return () => runTtlInPlaceSuite(target, () => backend(host), inPlace);
  const storage = CHECKPOINT_STORAGES[target];
  if (suite === 'checkpoint-storage' && storage) return () => checkpointStorageSuite(target, () => storage.make(host), storage.capabilities);
  if (suite === 'r2-specific' && target === 'r2') return () => r2SpecificCases(host.env.BUCKET);
  return undefined;
}

/** Runs one suite on one target per request; one object per suite and target. */
export class ConformanceObject {
  constructor(
    private readonly ctx: WorkerdHost['ctx'],
    private readonly env: WorkerdHost['env'],
  ) {}

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const suite = url.searchParams.get('suite') ?? '';
    const target = url.searchParams.get('target') ?? '';
    const definition = define(suite, target, { ctx: this.ctx, env: this.env });
    if (definition === undefined) return new Response(`no suite ${suite} on ${target}`, { status: 404 });
    const cases = collectCases(definition);
    const results = await runCases(cases);
    return Response.json({ declared: cases.length, results });
  }
}

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const name = `${url.searchParams.get('suite')}/${url.searchParams.get('target')}`;
    return env.CONFORMANCE.get(env.CONFORMANCE.idFromName(name)).fetch(request);
  },
};
