import { instantiatePlugin } from '@secrets-sync/plugin-sdk';
import { conformanceChecks, testMountRequest } from '@secrets-sync/plugin-sdk/conformance';
import plugin from './index.js';

describe('conformance', () => {
  for (const check of conformanceChecks(plugin, {
    provider: 'fake', // the providers come from a factory: naming one gives one test per check
    parameters: { objects: '- username\n- objectName: password\n  value: hunter2\n' },
    misconfigured: [{ objects: '' }, { objects: '{not: [a list' }, { objects: '- a', generation: 'zero' }],
  })) {
    test(check.name, () => check.run());
  }
});

describe('the fake provider', () => {
  test('derives values and versions from the objects and the generation', async () => {
    const [fake] = await instantiatePlugin(plugin);
    const result = await fake!.mount(testMountRequest({ parameters: { objects: '- a\n- objectName: b\n  value: bee\n', generation: '3' } }));
    expect(result).toEqual({
      files: [{ path: 'a', contents: 'a-value-v3' }, { path: 'b', contents: 'bee-v3' }],
      objectVersions: [{ id: 'secret/a', version: 'v3' }, { id: 'secret/b', version: 'v3' }],
    });
  });

  test('checks the token audiences it is configured with, and its options', async () => {
    const [fake] = await instantiatePlugin(plugin, { options: { name: 'fake2', tokenAudiences: ['vault'] } });
    expect(fake!.name).toBe('fake2');
    await expect(Promise.resolve().then(() => fake!.mount(testMountRequest({ parameters: { objects: '- a' } })))).rejects.toMatchObject({
      reason: 'ProviderError',
      code: 'Unauthenticated',
    });
    await expect(fake!.mount(testMountRequest({ parameters: { objects: '- a' }, tokens: { vault: 'jwt' } }))).toMatchObject({ objectVersions: [{ id: 'secret/a' }] });
    await expect(instantiatePlugin(plugin, { options: { nmae: 'x' } })).rejects.toThrow('invalid options: unknown option "nmae" (known: name, tokenAudiences)');
  });
});
