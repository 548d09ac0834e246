/** Jest global teardown of the integration project: stops the control plane (no process is left behind). */
export default async function globalTeardown(): Promise<void> {
  const c = globalThis.__SSC_CLUSTER__;
  globalThis.__SSC_CLUSTER__ = undefined;
  if (c) await c.stop();
}
