/**
 * YAML rendering of the emitted policies. CEL expressions are written as literal block scalars (`|-`):
 * their text appears verbatim, with no YAML escaping, which keeps them readable and lets the chart
 * template generator substitute Helm expressions inside them safely.
 */
import { Document, isPair, isScalar, visit } from 'yaml';
import { emitPolicies, policyObjects, type EmittedPolicy } from './emitter.js';
import type { PolicyConfig } from './config.js';

const CEL_KEYS = new Set(['expression', 'messageExpression']);

/** One YAML document for one object. */
export function renderObjectYaml(object: unknown): string {
  const doc = new Document(object);
  visit(doc, {
    Pair(_, pair) {
      if (isPair(pair) && isScalar(pair.key) && CEL_KEYS.has(String(pair.key.value)) && isScalar(pair.value) && typeof pair.value.value === 'string') {
        pair.value.type = 'BLOCK_LITERAL';
      }
    },
  });
  return doc.toString({ lineWidth: 0, indentSeq: false });
}

/** A multi-document YAML stream: each policy followed by its binding, documents separated by `---`. */
export function renderPoliciesYaml(input: PolicyConfig | readonly EmittedPolicy[]): string {
  const emitted = Array.isArray(input) ? (input as readonly EmittedPolicy[]) : emitPolicies(input as PolicyConfig);
  return policyObjects(emitted).map((o) => `---\n${renderObjectYaml(o)}`).join('');
}
