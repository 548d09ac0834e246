// Jest global setup of the integration project (plain ESM: Node loads it outside Jest's transform).
import { register } from 'node:module';
register('./ts-resolve.mjs', import.meta.url);
const { default: setup } = await import('./global-setup.ts');
export default setup;
