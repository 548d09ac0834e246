// `npm run chart:policies`: writes charts/secrets-store-sync-controller/templates/policies.yaml from the
// PolicyEmitter (core/policy). With --check it writes nothing and exits 1 when the committed file is stale.
// Plain ESM so it runs without a build: Node 24 strips the TypeScript types, ts-resolve maps `.js` imports.
import { register } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

register('../cluster/ts-resolve.mjs', import.meta.url);
const { generatePolicyTemplate } = await import('../../core/policy/helm-template.ts');

const target = fileURLToPath(new URL('../../charts/secrets-store-sync-controller/templates/policies.yaml', import.meta.url));
const text = generatePolicyTemplate();
if (process.argv.includes('--check')) {
  let current = '';
  try { current = readFileSync(target, 'utf8'); } catch { /* missing counts as stale */ }
  if (current !== text) {
    console.error(`${target} is out of date: run \`npm run chart:policies\``);
    process.exit(1);
  }
  console.log(`${target} is up to date`);
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}
