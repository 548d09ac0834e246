/**
 * CEL literals for the admission policies.
 *
 * Every string the emitter puts into a CEL expression is written as a double-quoted literal produced
 * exactly as Go's `encoding/json` (and therefore Helm's `toJson`) writes it. That makes one text form
 * valid in both places: a JSON string is a valid CEL string literal with the same value, and the chart
 * template (generated from this emitter) can substitute values with `toJson` and get byte-identical CEL.
 *
 * Go's encoder differs from `JSON.stringify` in that it escapes `<`, `>`, `&`, U+2028 and U+2029 as
 * `\u003c`-style escapes, which CEL accepts too.
 */

const GO_EXTRA_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** A CEL string literal (Go-JSON form) for `value`. */
export function celString(value: string): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => GO_EXTRA_ESCAPES[c]);
}

/** A CEL list literal of strings (Go-JSON form, no spaces: `["a","b"]`); `[]` when empty. */
export function celList(values: readonly string[]): string {
  return `[${values.map(celString).join(',')}]`;
}
