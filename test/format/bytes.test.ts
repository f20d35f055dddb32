import { describe, expect, it } from 'vitest';
import { EddyError, SnapshotError } from '../../src/api/errors.ts';
import { ByteReader, ByteWriter, magnitudeOf, magnitudeSize, writeMagnitudeAt } from '../../src/format/bytes.ts';
import { prng } from '../helpers/prng.ts';
import { hex } from './value-helpers.ts';

describe('ByteWriter and ByteReader', () => {
  it('round-trip varints at every size boundary', () => {
    const values = [0, 1, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 49, 2 ** 53 - 1];
    const w = new ByteWriter(16);
    for (const v of values) w.varint(v);
    const r = new ByteReader(w.finish());
    for (const v of values) expect(r.varint()).toBe(v);
    expect(r.done).toBe(true);
  });

  it('rejects varints that are negative, fractional or beyond 2^53-1', () => {
    const w = new ByteWriter();
    for (const bad of [-1, 1.5, 2 ** 53, NaN, Infinity]) expect(() => w.varint(bad)).toThrow(EddyError);
  });

  it('writes and reads every primitive in order', () => {
    const w = new ByteWriter(16);
    w.u8(7);
    w.f64(-0);
    w.f64(Math.PI);
    w.bytes(new Uint8Array([1, 2]));
    w.lenBytes(new Uint8Array([3, 4, 5]));
    w.string('héllo 😀');
    w.string('\ud800');
    w.string('x'.repeat(1000));
    expect(w.length).toBe(1 + 8 + 8 + 2 + 4 + 1 + 11 + 1 + 3 + 2 + 1000);
    const r = new ByteReader(w.finish());
    expect(r.u8()).toBe(7);
    expect(Object.is(r.f64(), -0)).toBe(true);
    expect(r.f64()).toBe(Math.PI);
    expect(hex(r.bytes(2))).toBe('0102');
    expect(hex(r.lenBytes())).toBe('030405');
    expect(r.string()).toBe('héllo 😀');
    // A lone surrogate becomes U+FFFD in plain string(), as with TextEncoder.
    expect(r.string()).toBe('\ufffd');
    expect(r.offset).toBe(1 + 8 + 8 + 2 + 4 + 1 + 11 + 1 + 3);
    expect(r.string()).toBe('x'.repeat(1000));
    expect(r.done).toBe(true);
    expect(() => r.u8()).toThrow(SnapshotError);
  });

  it('encodes strings like TextEncoder, whichever path is taken', () => {
    const r = prng(9);
    const alphabet = ['a', 'é', '€', '😀', '\u0000', '\uffff', '\ud800', '\udc00'];
    for (let i = 0; i < 500; i++) {
      const n = Math.floor(r() * (r() < 0.2 ? 400 : 70));
      let s = '';
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(r() * alphabet.length)];
      const w = new ByteWriter(8);
      w.string(s);
      const expected = new TextEncoder().encode(s);
      const out = w.finish();
      const reader = new ByteReader(out);
      expect(hex(reader.lenBytes())).toBe(hex(expected));
    }
  });

  it('tryString writes nothing and returns false for a lone surrogate', () => {
    const w = new ByteWriter();
    expect(w.tryString('ok')).toBe(true);
    expect(w.tryString('bad\ud800')).toBe(false);
    expect(w.tryString('bad\ud800' + 'x'.repeat(100))).toBe(false);
    expect(hex(w.finish())).toBe('026f6b');
  });

  it('finish returns an exact copy the writer never touches again, and resets it', () => {
    const w = new ByteWriter(16);
    w.string('first');
    const a = w.finish();
    expect(w.length).toBe(0);
    w.string('second!');
    const b = w.finish();
    expect(hex(a)).toBe('056669727374');
    expect(a.byteLength).toBe(a.buffer.byteLength);
    expect(hex(b)).toBe('077365636f6e6421');
    // Exactly full: the buffer itself is handed over, and the writer starts afresh.
    const full = new ByteWriter(16);
    for (let i = 0; i < 16; i++) full.u8(i);
    const c = full.finish();
    full.u8(0xff);
    expect(c[0]).toBe(0);
  });

  it('truncate discards the tail and rejects lengths it cannot have', () => {
    const w = new ByteWriter();
    w.bytes(new Uint8Array([1, 2, 3]));
    w.truncate(1);
    expect(hex(w.finish())).toBe('01');
    expect(() => w.truncate(5)).toThrow(EddyError);
  });

  it('reads past the end as SNAPSHOT_CORRUPT with the offset', () => {
    const r = new ByteReader(new Uint8Array([1, 2, 3]));
    expect(() => r.f64()).toThrow(/unexpected end of data \(needed 8 bytes, 3 left\) at byte 0/u);
    expect(() => new ByteReader(new Uint8Array([0x80])).varint()).toThrow(SnapshotError);
  });
});

describe('bigint magnitudes', () => {
  it('writes the fewest big-endian bytes, safe and huge alike, and reads them back', () => {
    const cases: Array<[bigint, string]> = [
      [0n, ''],
      [1n, '01'],
      [255n, 'ff'],
      [256n, '0100'],
      [2n ** 53n - 1n, '1fffffffffffff'],
      [2n ** 53n, '20000000000000'],
      [2n ** 64n, '010000000000000000'],
      [12345678901234567890n, 'ab54a98ceb1f0ad2'],
    ];
    for (const [mag, expected] of cases) {
      const size = magnitudeSize(mag);
      expect(size).toBe(expected.length / 2);
      const buf = new Uint8Array(size + 2);
      expect(writeMagnitudeAt(buf, 1, mag, size)).toBe(1 + size);
      expect(hex(buf.subarray(1, 1 + size))).toBe(expected);
      expect(magnitudeOf(buf.subarray(1, 1 + size))).toBe(mag);
      const w = new ByteWriter(16);
      w.magnitude(mag);
      expect(hex(w.finish())).toBe(size.toString(16).padStart(2, '0') + expected);
    }
    // Leading zeros are a decoder's business to refuse (keys do); the value is still read.
    expect(magnitudeOf(Uint8Array.from([0, 0, 1, 0]))).toBe(256n);
    expect(magnitudeOf(Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8]))).toBe(0x0102030405060708n);
  });
});

describe('ByteReader for other components', () => {
  it('names its component in SNAPSHOT_CORRUPT errors and reads raw UTF-8 of a given length', () => {
    const r = new ByteReader(Uint8Array.from([0x68, 0x69, 0xc3, 0xa9, 0xff]), 'keys');
    expect(r.utf8(2)).toBe('hi');
    expect(r.utf8(2)).toBe('é');
    let caught: unknown;
    try {
      r.utf8(1);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SnapshotError);
    expect((caught as SnapshotError).context.component).toBe('keys');
    expect((caught as SnapshotError).message).toMatch(/invalid UTF-8 at byte 4/u);
    expect(() => new ByteReader(new Uint8Array(3), 'timers').f64()).toThrow(/needed 8 bytes/u);
  });

  it('reads strings of every short length back exactly, ASCII or not at any position (the short-ASCII path and the others)', () => {
    const samples: string[] = [];
    for (let n = 0; n <= 12; n++) {
      const ascii = Array.from({ length: n }, (_, i) => String.fromCharCode(0x20 + ((i * 7 + n) % 95))).join('');
      samples.push(ascii, ascii + '\u007f');
      for (let at = 0; at < n; at++) samples.push(ascii.slice(0, at) + 'é' + ascii.slice(at + 1));
    }
    const w = new ByteWriter(16);
    for (const s of samples) w.string(s);
    const r = new ByteReader(w.finish());
    expect(samples.map(() => r.string())).toEqual(samples);
    expect(r.done).toBe(true);
    // A byte over 0x7f that is not UTF-8 is still refused on the short path's fallback.
    expect(() => new ByteReader(Uint8Array.from([0x61, 0xff, 0x62])).utf8(3)).toThrow(/invalid UTF-8/u);
  });
});
