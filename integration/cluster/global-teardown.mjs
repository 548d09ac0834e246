import { register } from 'node:module';
register('./ts-resolve.mjs', import.meta.url);
const { default: teardown } = await import('./global-teardown.ts');
export default teardown;
