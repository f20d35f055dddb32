/** A declaration found for an exported name. */
export interface Declaration {
  readonly file: string;
  readonly line: number;
  /** The JSDoc text right before it; undefined when there is none (or it is only `@internal`). */
  readonly doc: string | undefined;
  readonly signature: string;
}
/** Every name `file` exports, mapped to its declaration (undefined when it cannot be found). */
export declare function exportsOf(file: string): Map<string, Declaration | undefined>;
