import type { Condition } from '../api/types.js';
import { conditionLogic } from './condition-logic.js';
import { CONDITION_CREATED, CONDITION_UPDATED, findCondition, hasFailedCondition } from './conditions.js';

const t0 = new Date('2026-03-01T00:00:00Z');
const t1 = new Date('2026-03-01T00:01:00Z');
const pick = (list: Condition[], type: string) => {
  const c = findCondition(list, type);
  return c && `${c.status}/${c.reason}/${c.observedGeneration ?? '-'}`;
};

describe('conditionLogic (the reconciler-facing adapter)', () => {
  test('failure before any success, then a create', () => {
    const failed = conditionLogic.failure(undefined, CONDITION_CREATED, 'ProviderError', 'fetching secrets from the provider failed: boom', t0, 1);
    expect(pick(failed, CONDITION_CREATED)).toBe('False/ProviderError/1');
    expect(pick(failed, CONDITION_UPDATED)).toBe('Unknown/NoUpdatesAttemptedYet/1');
    const created = conditionLogic.success(failed, true, t1, 1);
    expect(pick(created, CONDITION_CREATED)).toBe('True/CreateSuccessful/1');
    expect(pick(created, CONDITION_UPDATED)).toBe('True/SecretUpToDate/1');
  });

  test('update-path failure then success clears the failure', () => {
    const created = conditionLogic.success(undefined, true, t0, 1);
    const failed = conditionLogic.failure(created, CONDITION_UPDATED, 'ControllerPatchError', 'failed to patch secret "s": x', t1, 2);
    expect(pick(failed, CONDITION_UPDATED)).toBe('False/ControllerPatchError/2');
    expect(pick(failed, CONDITION_CREATED)).toBe('True/CreateSuccessful/1');
    const ok = conditionLogic.success(failed, false, t1, 2);
    expect(hasFailedCondition(ok)).toBe(false);
    expect(pick(ok, CONDITION_UPDATED)).toBe('True/SecretUpToDate/2');
  });
});
