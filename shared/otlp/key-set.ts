/**
 * Attribute keys matched on the wire, without decoding them to strings: exact keys and key prefixes
 * (namespaces such as `user.`). Most keys are told apart by their first byte alone.
 */
export class KeySet {
  private readonly exact: Buffer[];
  private readonly prefixes: Buffer[];
  /** 1 at each byte a key in the set can start with (at 0 for the empty key): most keys stop here. */
  readonly firstBytes = new Uint8Array(256);

  constructor(exact: Iterable<string>, prefixes: Iterable<string>) {
    this.exact = [...exact].map((key) => Buffer.from(key));
    this.prefixes = [...prefixes].map((prefix) => Buffer.from(prefix));
    // A key of no bytes is marked on byte 0, which `has` looks up for an empty key.
    for (const key of [...this.exact, ...this.prefixes]) this.firstBytes[key.length === 0 ? 0 : key[0]!] = 1;
  }

  get empty(): boolean {
    return this.exact.length === 0 && this.prefixes.length === 0;
  }

  /** Whether the key in bytes [start, end) of `buf` is one of the exact keys or starts with a prefix. */
  has(buf: Uint8Array, start: number, end: number): boolean {
    const length = end - start;
    if (this.firstBytes[length === 0 ? 0 : buf[start]!] === 0) return false;
    for (const prefix of this.prefixes) if (length >= prefix.length && same(buf, start, prefix)) return true;
    for (const key of this.exact) if (length === key.length && same(buf, start, key)) return true;
    return false;
  }
}

function same(buf: Uint8Array, start: number, expected: Buffer): boolean {
  for (let i = 0; i < expected.length; i++) if (buf[start + i] !== expected[i]) return false;
  return true;
}
