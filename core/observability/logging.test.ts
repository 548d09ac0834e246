import { createLogger } from './logging.js';

test('fields that could carry secrets or tokens are redacted in JSON logs', () => {
  const lines: string[] = [];
  const stream = { write(c: string) { lines.push(c); return true; } } as unknown as NodeJS.WritableStream;
  const log = createLogger('debug', stream);
  log.info({ token: 'eyJhbGciOiJSUzI1NiJ9.secret', attributes: { objects: 'x', 'csi.storage.k8s.io/serviceAccount.tokens': 'eyJ...' },
    req: { headers: { authorization: 'Bearer abc' } }, data: { password: 'hunter2' }, name: 'kept' }, 'probe');
  log.child({ namespace: 'ns' }).warn({ contents: Buffer.from('s3cr3t') }, 'child');
  const text = lines.join('');
  for (const s of ['eyJhbGciOiJSUzI1NiJ9', 'Bearer abc', 'hunter2', 'csi.storage.k8s.io/serviceAccount.tokens', 's3cr3t', 'czNjcjN0']) expect(text).not.toContain(s);
  const first = JSON.parse(lines[0]) as Record<string, unknown>;
  expect(first).toMatchObject({ msg: 'probe', name: 'kept', token: '[REDACTED]', attributes: '[REDACTED]', data: '[REDACTED]', component: 'secrets-store-sync-controller' });
  expect(JSON.parse(lines[1])).toMatchObject({ msg: 'child', namespace: 'ns', contents: '[REDACTED]' });
});
