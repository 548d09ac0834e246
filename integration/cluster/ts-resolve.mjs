// Node resolution hook for running the harness's TypeScript natively (Node 24 strips types): a relative
// `./x.js` import resolves to `./x.ts` when only the .ts file exists. Used by Jest's global setup/teardown,
// which Node loads outside Jest's module system.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function resolve(specifier, context, next) {
  if ((specifier.startsWith('./') || specifier.startsWith('../')) && specifier.endsWith('.js') && context.parentURL) {
    const ts = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(ts))) return next(ts.href, context);
  }
  return next(specifier, context);
}
