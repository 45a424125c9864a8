/** Where something came from in a source text: a 0-based character offset and a length. */
export interface Span {
  readonly pos: number;
  readonly length: number;
}
