/** Where something came from in a source text: a 0-based character offset and a length. */
export interface Span {
  /** The 0-based offset of the first character. */
  readonly pos: number;
  /** The number of characters. */
  readonly length: number;
}
