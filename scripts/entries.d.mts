/** A public entry of the package (see entries.mjs). */
export interface PublicEntry {
  readonly subpath: string;
  readonly name: string;
  readonly import: string;
  readonly types: string;
  readonly source: string;
}
/** The repository root (a directory path ending in `/`). */
export declare const ROOT: string;
/** The package's public entries, from package.json `exports`. */
export declare function publicEntries(): PublicEntry[];
