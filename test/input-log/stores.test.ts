import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { FileInputLogStore } from '../../src/storages/fs-input-log.ts';
import { MemoryInputLogStore } from '../../src/storages/memory-input-log.ts';
import { inputLogStoreSuite } from '../conformance/input-log-store.suite.ts';

const base = await mkdtemp(join(tmpdir(), 'eddy-input-log-'));
afterAll(() => rm(base, { recursive: true, force: true }));

inputLogStoreSuite('memory', (name) => new MemoryInputLogStore(name));
inputLogStoreSuite('file', (name) => new FileInputLogStore(join(base, name)));
// Small segments: rolling, reading across segments and deleting truncated ones run too.
inputLogStoreSuite('file, 256-byte segments', (name) => new FileInputLogStore(join(base, `small-${name}`), { segmentBytes: 256 }));
