/**
 * The condition rules in the shape the reconciler consumes (`ConditionLogic` in core/reconciler.ts, matched
 * structurally so that core/sync does not import the reconciler). All behaviour lives in conditions.ts.
 *
 * Edge cases: `success` with `created` = false is the update path and also clears a stale False condition;
 * `failure` sets only the given type (the one chosen from the syncHash at the start of the run) and adds the
 * initial conditions first when fewer than two exist.
 */
import type { Condition } from '../api/types.js';
import { conditionsForOutcome, ensureInitialConditions, setCondition } from './conditions.js';

export const conditionLogic = {
  success(existing: Condition[] | undefined, created: boolean, now: Date, generation?: number): Condition[] {
    return conditionsForOutcome({ conditions: existing }, { kind: created ? 'created' : 'updated' }, now, generation);
  },
  failure(
    existing: Condition[] | undefined,
    type: string,
    reason: string,
    message: string,
    now: Date,
    generation?: number,
  ): Condition[] {
    const list = ensureInitialConditions(existing, now, generation);
    return setCondition(list, {
      type, status: 'False', reason, message, ...(generation !== undefined ? { observedGeneration: generation } : {}),
    }, now);
  },
};
