/**
 * Computes the figures the golden test pins: for each input of `golden-inputs.ts`, its
 * canonical bytes (in full when short, else length and SHA-256), hashes and key groups.
 * Each figure is a line `name → text`, so a failing comparison names what changed.
 */
import { createHash } from 'node:crypto';
import { ByteWriter } from '../../src/format/bytes.ts';
import { cloneValue } from '../../src/format/value-clone.ts';
import { encodeValue, serializeValue } from '../../src/format/value-codec.ts';
import { canonicalKeyBytes, type Key } from '../../src/format/key-bytes.ts';
import { hashKey, keyGroupForKey, keyGroupRangeForSubtask, subtaskForKeyGroup } from '../../src/format/key-groups.ts';
import { keyId } from '../../src/format/key-ids.ts';
import { murmur3_32, murmur3_32TaggedAscii } from '../../src/format/murmur3.ts';
import {
  GOLDEN_MAX_PARALLELISMS,
  GOLDEN_PARALLELISMS,
  goldenAsciiStrings,
  goldenKeys,
  goldenMurmurInputs,
  goldenValues,
  randomGoldenKeys,
  randomGoldenValues,
} from './golden-inputs.ts';

/** Lower-case hex of the bytes. */
export const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex').slice(0, 32);

/** The bytes in full up to 48 of them, else `<length> bytes, sha256 <first 16 bytes>`. */
export function fingerprint(b: Uint8Array): string {
  return b.length <= 48 ? hex(b) : `${b.length} bytes, sha256 ${sha(b)}`;
}

function idText(id: unknown): string {
  if (typeof id !== 'string') return `${typeof id} ${String(id)}`;
  // UTF-16 code units, big-endian: an id may hold any of them, lone surrogates included.
  const units = new Uint8Array(id.length * 2);
  for (let i = 0; i < id.length; i++) {
    units[2 * i] = id.charCodeAt(i) >> 8;
    units[2 * i + 1] = id.charCodeAt(i) & 0xff;
  }
  return `string ${fingerprint(units)}`;
}

const u32 = (n: number): string => n.toString(16).padStart(8, '0');

/** Every pinned figure as `[name, text]`, in a fixed order. */
export function goldenFigures(): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  for (const [name, v] of goldenValues()) out.push([`value ${name}`, fingerprint(serializeValue(v))]);
  const stream = new ByteWriter(64);
  const clones = new ByteWriter(64);
  for (const v of randomGoldenValues(2026, 600)) {
    encodeValue(stream, v);
    encodeValue(clones, cloneValue(v));
  }
  out.push(['600 random values in one writer', fingerprint(stream.finish())]);
  out.push(['600 random values, cloned', fingerprint(clones.finish())]);

  for (const [name, k] of goldenKeys()) {
    const key = k as Key;
    const groups = GOLDEN_MAX_PARALLELISMS.map((p) => keyGroupForKey(key, p)).join(' ');
    out.push([`key ${name}`, `${fingerprint(canonicalKeyBytes(key))} | ${u32(hashKey(key))} | ${groups}`]);
    out.push([`key ${name} id`, idText(keyId(key))]);
  }
  const keyStream: number[] = [];
  const hashes: string[] = [];
  const ids: string[] = [];
  for (const k of randomGoldenKeys(2026, 3000)) {
    const key = k as Key;
    const bytes = canonicalKeyBytes(key);
    keyStream.push(bytes.length >> 8, bytes.length & 0xff, ...bytes);
    hashes.push(u32(hashKey(key)), String(keyGroupForKey(key, 1000)));
    ids.push(idText(keyId(key)));
  }
  out.push(['3000 random keys, bytes', fingerprint(Uint8Array.from(keyStream))]);
  out.push(['3000 random keys, hashes and key groups', sha(hashes.join(' '))]);
  out.push(['3000 random keys, ids', sha(ids.join(' '))]);

  const inputs = goldenMurmurInputs();
  for (const seed of [0, 1, 0x9747b28c, 0xffffffff]) {
    for (let from = 0; from < inputs.length; from += 10) {
      const hashes = inputs.slice(from, from + 10).map((b) => u32(murmur3_32(b, seed)));
      out.push([`murmur3 seed ${seed}, inputs ${from}..${from + hashes.length - 1}`, hashes.join(' ')]);
    }
  }
  out.push(['murmur3 of a prefix', [0, 1, 5, 13, 36].map((n) => u32(murmur3_32(inputs[36]!, 0, n))).join(' ')]);
  for (const tag of [0, 1, 5, 0xff]) {
    out.push([
      `murmur3 tagged ASCII, tag ${tag}`,
      goldenAsciiStrings()
        .map((s) => murmur3_32TaggedAscii(tag, s))
        .map((h) => (h < 0 ? '-1' : u32(h)))
        .join(' '),
    ]);
  }
  for (const [maxP, p] of GOLDEN_PARALLELISMS) {
    const ranges = Array.from({ length: p }, (_, i) => keyGroupRangeForSubtask(maxP, p, i)).map((r) => `${r.start}..${r.end}`);
    const owners = Array.from({ length: maxP }, (_, kg) => subtaskForKeyGroup(maxP, p, kg));
    out.push([`subtask ranges ${maxP}/${p}`, ranges.length <= 13 ? ranges.join(' ') : sha(ranges.join(' '))]);
    out.push([`key group owners ${maxP}/${p}`, sha(owners.join(' '))]);
  }
  return out;
}
