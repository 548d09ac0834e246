/**
 * `npm run cluster -- up|down|status|env`: a long-lived local control plane for people (kubectl works with the
 * printed KUBECONFIG). State lives in the per-user cache, so `down` works from any shell.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from './binaries.js';
import { ControlPlane, readClusterInfo } from './control-plane.js';
import { ClusterError } from './errors.js';
import { alive, killPidFile } from './processes.js';

const stateDir = () => join(cacheRoot(), 'clusters', process.env.SSC_CLUSTER_NAME ?? 'default');

function running(dir: string): boolean {
  const pidFile = join(dir, 'pids');
  if (!existsSync(pidFile) || !existsSync(join(dir, 'cluster.json'))) return false;
  return readFileSync(pidFile, 'utf8').split('\n').map(Number).filter((n) => n > 0).some(alive);
}

async function main(cmd: string | undefined): Promise<number> {
  const dir = stateDir();
  switch (cmd) {
    case 'up': {
      if (running(dir)) {
        const info = readClusterInfo(dir);
        console.log(`already running at ${info.server}\nexport KUBECONFIG=${info.kubeconfig}`);
        return 0;
      }
      await killPidFile(join(dir, 'pids'), 2_000);
      rmSync(dir, { recursive: true, force: true });
      const cp = await ControlPlane.start({ dataDir: dir, persistent: true });
      console.log(`control plane up at ${cp.info.server} (started in ${(cp.info.startedInMs / 1000).toFixed(1)} s)`);
      console.log(`export KUBECONFIG=${cp.info.kubeconfig}`);
      console.log('stop it with: npm run cluster -- down');
      return 0;
    }
    case 'down': {
      const n = await killPidFile(join(dir, 'pids'));
      rmSync(dir, { recursive: true, force: true });
      console.log(n ? `stopped ${n} processes` : 'no control plane was running');
      return 0;
    }
    case 'status': {
      if (!running(dir)) { console.log('not running'); return 1; }
      const info = readClusterInfo(dir);
      console.log(`running at ${info.server}\nexport KUBECONFIG=${info.kubeconfig}`);
      return 0;
    }
    case 'build': {
      const { ensureBinaries } = await import('./binaries.js');
      const b = await ensureBinaries();
      console.log(Object.values(b).join('\n'));
      return 0;
    }
    default:
      console.error('usage: npm run cluster -- up|down|status|build');
      return 2;
  }
}

main(process.argv[2]).then((code) => process.exit(code), (err: unknown) => {
  console.error(err instanceof ClusterError ? `error: ${err.message}` : err);
  process.exit(1);
});
