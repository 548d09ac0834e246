import type { Condition, SecretSyncStatus } from '../api/types.js';
import {
  ControllerPatchError, InvalidClusterSecretLabelError, RemoteSecretStoreFetchFailed, SecretProviderClassMisconfigured,
  type SyncReason,
} from '../errors.js';
import {
  CONDITION_CREATED, CONDITION_UPDATED, conditionsForOutcome, conditionTime, conditionTypeForRun, ensureInitialConditions,
  FAILED_REASONS, findCondition, hasFailedCondition, initialConditions, MAX_CONDITION_MESSAGE_LENGTH,
  MESSAGE_CREATE_SUCCESSFUL, MESSAGE_RESERVED_ANNOTATION, MESSAGE_RESERVED_LABEL, MESSAGE_SECRET_UP_TO_DATE,
  patchFailedMessage, providerFetchFailedMessage, REASON_CREATE_SUCCESSFUL, REASON_NO_UPDATES_ATTEMPTED_YET,
  REASON_SECRET_UP_TO_DATE, REASON_SYNC_STARTING, setCondition, spcFetchFailedMessage,
} from './conditions.js';

const t0 = new Date('2026-01-02T03:04:05.678Z');
const t1 = new Date('2026-01-02T03:05:00.000Z');
const t2 = new Date('2026-01-02T04:00:00.000Z');
const T0 = '2026-01-02T03:04:05Z';
const T1 = '2026-01-02T03:05:00Z';
const T2 = '2026-01-02T04:00:00Z';

const view = (list: readonly Condition[], type: string) => {
  const c = findCondition(list, type);
  return c && { status: c.status, reason: c.reason, message: c.message, lastTransitionTime: c.lastTransitionTime, observedGeneration: c.observedGeneration };
};

describe('constants (upstream strings)', () => {
  test('types, reasons and messages', () => {
    expect([CONDITION_CREATED, CONDITION_UPDATED]).toEqual(['SecretCreated', 'SecretUpdated']);
    expect([REASON_SYNC_STARTING, REASON_NO_UPDATES_ATTEMPTED_YET, REASON_CREATE_SUCCESSFUL, REASON_SECRET_UP_TO_DATE])
      .toEqual(['SyncStarting', 'NoUpdatesAttemptedYet', 'CreateSuccessful', 'SecretUpToDate']);
    expect(MESSAGE_CREATE_SUCCESSFUL).toBe('Secret created successfully.');
    expect(MESSAGE_SECRET_UP_TO_DATE).toBe('Secret contains last observed values.');
    expect(MESSAGE_RESERVED_LABEL).toBe('label secrets-store.sync.x-k8s.io is reserved for use by the Secrets Store Sync Controller');
    expect(MESSAGE_RESERVED_ANNOTATION).toBe('annotation secrets-store.sync.x-k8s.io is reserved for use by the Secrets Store Sync Controller');
    expect(spcFetchFailedMessage('test-spc', 'boom')).toBe('failed to get SecretProviderClass "test-spc": boom');
    expect(providerFetchFailedMessage('target key in secretObject.data is empty'))
      .toBe('fetching secrets from the provider failed: target key in secretObject.data is empty');
    expect(patchFailedMessage('s', 'denied')).toBe('failed to patch secret "s": denied');
  });

  test('FAILED_REASONS is exactly the seven SyncReasons', () => {
    const all: SyncReason[] = ['SecretProviderClassMisconfigured', 'InvalidClusterSecretLabelError', 'InvalidClusterSecretAnnotationError',
      'ProviderError', 'RemoteSecretStoreFetchFailed', 'ControllerPatchError', 'ControllerSyncError'];
    expect([...FAILED_REASONS].sort()).toEqual([...all].sort());
    expect(FAILED_REASONS.has('CreateSuccessful' as SyncReason)).toBe(false);
  });
});

describe('setCondition (meta.SetStatusCondition semantics)', () => {
  test('conditionTime is RFC 3339 UTC with whole seconds', () => {
    expect(conditionTime(t0)).toBe(T0);
    expect(conditionTime(t0.getTime())).toBe(T0);
  });

  test('a new type is appended with lastTransitionTime = now', () => {
    const list = setCondition(undefined, { type: 'A', status: 'True', reason: 'R', message: 'm' }, t0);
    expect(list).toEqual([{ type: 'A', status: 'True', reason: 'R', message: 'm', lastTransitionTime: T0 }]);
  });

  test('an explicit lastTransitionTime is used for new conditions', () => {
    const list = setCondition([], { type: 'A', status: 'True', reason: 'R', message: 'm', lastTransitionTime: T2 }, t0);
    expect(list[0]?.lastTransitionTime).toBe(T2);
  });

  test('same status: reason, message, observedGeneration overwritten; time kept', () => {
    const before = setCondition([], { type: 'A', status: 'False', reason: 'R1', message: 'm1', observedGeneration: 1 }, t0);
    const after = setCondition(before, { type: 'A', status: 'False', reason: 'R2', message: 'm2', observedGeneration: 2 }, t1);
    expect(after).toEqual([{ type: 'A', status: 'False', reason: 'R2', message: 'm2', lastTransitionTime: T0, observedGeneration: 2 }]);
  });

  test('status flip moves the time; an absent observedGeneration removes it', () => {
    const before = setCondition([], { type: 'A', status: 'False', reason: 'R', message: '', observedGeneration: 4 }, t0);
    const after = setCondition(before, { type: 'A', status: 'True', reason: 'R', message: '' }, t1);
    expect(after[0]).toEqual({ type: 'A', status: 'True', reason: 'R', message: '', lastTransitionTime: T1 });
  });

  test('other conditions and their order are preserved; the input is not mutated', () => {
    const input = setCondition(setCondition([], { type: 'A', status: 'True', reason: 'R', message: '' }, t0),
      { type: 'B', status: 'True', reason: 'R', message: '' }, t0);
    const snapshot = JSON.parse(JSON.stringify(input)) as Condition[];
    const out = setCondition(input, { type: 'A', status: 'False', reason: 'X', message: 'x' }, t1);
    expect(out.map((c) => c.type)).toEqual(['A', 'B']);
    expect(out[1]).toBe(input[1]);
    expect(input).toEqual(snapshot);
  });

  test('messages over the CRD limit are truncated, never split inside a surrogate pair', () => {
    const long = 'x'.repeat(MAX_CONDITION_MESSAGE_LENGTH + 10);
    const out = setCondition([], { type: 'A', status: 'False', reason: 'R', message: long }, t0)[0] as Condition;
    expect(out.message.length).toBeLessThanOrEqual(MAX_CONDITION_MESSAGE_LENGTH);
    expect(out.message.endsWith(' ... (truncated)')).toBe(true);
    const emoji = '😀'.repeat(MAX_CONDITION_MESSAGE_LENGTH);
    const out2 = setCondition([], { type: 'A', status: 'False', reason: 'R', message: emoji }, t0)[0] as Condition;
    expect(out2.message.length).toBeLessThanOrEqual(MAX_CONDITION_MESSAGE_LENGTH);
    expect(out2.message).toMatch(/^(😀)+ \.\.\. \(truncated\)$/u);
  });
});

describe('initial conditions (upstream step 3)', () => {
  test('SecretCreated Unknown/SyncStarting and SecretUpdated Unknown/NoUpdatesAttemptedYet, empty messages', () => {
    expect(initialConditions(t0)).toEqual([
      { type: 'SecretCreated', status: 'Unknown', reason: 'SyncStarting', message: '', lastTransitionTime: T0 },
      { type: 'SecretUpdated', status: 'Unknown', reason: 'NoUpdatesAttemptedYet', message: '', lastTransitionTime: T0 },
    ]);
    expect(initialConditions(t0, 3).map((c) => c.observedGeneration)).toEqual([3, 3]);
  });

  test('ensureInitialConditions adds only missing types and leaves a full list alone', () => {
    const full = initialConditions(t0);
    expect(ensureInitialConditions(full, t1)).toBe(full);
    const partial = setCondition([], { type: CONDITION_CREATED, status: 'False', reason: 'ProviderError', message: 'x' }, t0);
    const ensured = ensureInitialConditions(partial, t1);
    expect(view(ensured, CONDITION_CREATED)?.status).toBe('False');
    expect(view(ensured, CONDITION_UPDATED)).toMatchObject({ status: 'Unknown', reason: REASON_NO_UPDATES_ATTEMPTED_YET, lastTransitionTime: T1 });
  });
});

describe('run type and failed-reason scan', () => {
  test('SecretCreated until a syncHash exists', () => {
    expect(conditionTypeForRun(undefined)).toBe(CONDITION_CREATED);
    expect(conditionTypeForRun({ syncHash: '' })).toBe(CONDITION_CREATED);
    expect(conditionTypeForRun({ syncHash: 'v2:ab' })).toBe(CONDITION_UPDATED);
  });

  test('hasFailedCondition looks at reasons, whatever the status', () => {
    expect(hasFailedCondition(undefined)).toBe(false);
    expect(hasFailedCondition(initialConditions(t0))).toBe(false);
    const failed = setCondition(initialConditions(t0), { type: CONDITION_UPDATED, status: 'False', reason: 'ControllerPatchError', message: '' }, t1);
    expect(hasFailedCondition(failed)).toBe(true);
    const odd = setCondition(initialConditions(t0), { type: 'Other', status: 'True', reason: 'ProviderError', message: '' }, t1);
    expect(hasFailedCondition(odd)).toBe(true);
  });
});

describe('conditionsForOutcome', () => {
  test('upstream "creates secret successfully": both True with the exact messages', () => {
    const list = conditionsForOutcome(undefined, { kind: 'created' }, t0, 1);
    expect(view(list, CONDITION_CREATED)).toEqual({ status: 'True', reason: 'CreateSuccessful', message: 'Secret created successfully.', lastTransitionTime: T0, observedGeneration: 1 });
    expect(view(list, CONDITION_UPDATED)).toEqual({ status: 'True', reason: 'SecretUpToDate', message: 'Secret contains last observed values.', lastTransitionTime: T0, observedGeneration: 1 });
  });

  test('upstream "use of reserved label": SecretCreated False, SecretUpdated stays Unknown/NoUpdatesAttemptedYet', () => {
    const error = new InvalidClusterSecretLabelError(MESSAGE_RESERVED_LABEL);
    const list = conditionsForOutcome({ conditions: initialConditions(t0) }, { kind: 'failed', error }, t1, 2);
    expect(view(list, CONDITION_CREATED)).toEqual({ status: 'False', reason: 'InvalidClusterSecretLabelError', message: MESSAGE_RESERVED_LABEL, lastTransitionTime: T1, observedGeneration: 2 });
    expect(view(list, CONDITION_UPDATED)).toMatchObject({ status: 'Unknown', reason: 'NoUpdatesAttemptedYet', message: '' });
  });

  test('upstream "invalid SecretObjectData": message override carries the wrapping prefix', () => {
    const error = new RemoteSecretStoreFetchFailed('target key in secretObject.data is empty');
    const list = conditionsForOutcome(undefined, { kind: 'failed', error, message: providerFetchFailedMessage(error.message) }, t0);
    expect(view(list, CONDITION_CREATED)).toMatchObject({
      status: 'False', reason: 'RemoteSecretStoreFetchFailed',
      message: 'fetching secrets from the provider failed: target key in secretObject.data is empty',
    });
    expect(findCondition(list, CONDITION_CREATED)?.observedGeneration).toBeUndefined();
  });

  test('failure on the update path sets SecretUpdated False and leaves SecretCreated True', () => {
    const created = conditionsForOutcome(undefined, { kind: 'created' }, t0, 1);
    const status: SecretSyncStatus = { syncHash: 'v2:aa', conditions: created };
    const list = conditionsForOutcome(status, { kind: 'failed', error: new ControllerPatchError(patchFailedMessage('s', 'conflict')) }, t1, 2);
    expect(view(list, CONDITION_UPDATED)).toMatchObject({ status: 'False', reason: 'ControllerPatchError', message: 'failed to patch secret "s": conflict', lastTransitionTime: T1 });
    expect(view(list, CONDITION_CREATED)).toMatchObject({ status: 'True', reason: 'CreateSuccessful', lastTransitionTime: T0, observedGeneration: 1 });
  });

  test('repeated success keeps lastTransitionTime (upstream TestConditionsOnHashChange)', () => {
    const first = conditionsForOutcome(undefined, { kind: 'created' }, t0, 1);
    const second = conditionsForOutcome({ syncHash: 'v2:aa', conditions: first }, { kind: 'updated' }, t1, 1);
    expect(second).toEqual(first);
  });

  test('our fix (upstream §13.6): a recovered update clears the stale False SecretUpdated even with an unchanged hash', () => {
    const created = conditionsForOutcome(undefined, { kind: 'created' }, t0, 1);
    const failed = conditionsForOutcome({ syncHash: 'v2:aa', conditions: created }, { kind: 'failed', error: new ControllerPatchError('x') }, t1, 1);
    expect(hasFailedCondition(failed)).toBe(true);
    const recovered = conditionsForOutcome({ syncHash: 'v2:aa', conditions: failed }, { kind: 'updated' }, t2, 1);
    expect(view(recovered, CONDITION_UPDATED)).toEqual({ status: 'True', reason: 'SecretUpToDate', message: MESSAGE_SECRET_UP_TO_DATE, lastTransitionTime: T2, observedGeneration: 1 });
    expect(hasFailedCondition(recovered)).toBe(false);
  });

  test('our fix: a stale False SecretCreated is cleared by a later success on the update path', () => {
    const conditions = setCondition(initialConditions(t0), {
      type: CONDITION_CREATED, status: 'False', reason: 'SecretProviderClassMisconfigured', message: 'old',
    }, t0);
    const list = conditionsForOutcome({ syncHash: 'v2:aa', conditions }, { kind: 'updated' }, t1, 3);
    expect(view(list, CONDITION_CREATED)).toEqual({ status: 'True', reason: 'CreateSuccessful', message: MESSAGE_CREATE_SUCCESSFUL, lastTransitionTime: T1, observedGeneration: 3 });
    expect(hasFailedCondition(list)).toBe(false);
  });

  test('create after a failed create: SecretCreated flips False -> True and its time moves', () => {
    const failed = conditionsForOutcome(undefined, { kind: 'failed', error: new SecretProviderClassMisconfigured('nope') }, t0, 1);
    const list = conditionsForOutcome({ conditions: failed }, { kind: 'created' }, t1, 1);
    expect(view(list, CONDITION_CREATED)).toMatchObject({ status: 'True', lastTransitionTime: T1 });
    expect(view(list, CONDITION_UPDATED)).toMatchObject({ status: 'True', reason: REASON_SECRET_UP_TO_DATE, lastTransitionTime: T1 });
  });

  test('no Ready-style condition is ever added', () => {
    const list = conditionsForOutcome(undefined, { kind: 'created' }, t0, 1);
    expect(list.map((c) => c.type).sort()).toEqual(['SecretCreated', 'SecretUpdated']);
  });
});
