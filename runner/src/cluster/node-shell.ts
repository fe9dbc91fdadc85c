// A cluster node is a Shell: commands run inside its container (as root), through the
// driver, so the fake driver answers them in tests. Admin kubectl on the control plane
// is a Kubectl over this shell with kubeadm's admin kubeconfig.

import type { Shell } from '../exec/shell.ts';
import { ADMIN_KUBECONFIG, Kubectl, type KubectlOptions } from '../kube/kubectl.ts';
import type { ClusterDriver } from './cluster-driver.ts';

export function nodeShell(driver: Pick<ClusterDriver, 'execOnNode'>, cluster: string, node: string): Shell {
  return {
    run(argv, opts) {
      if (opts.user !== undefined && opts.user !== 'root') throw new Error(`a node shell runs as root, not ${opts.user}`);
      const { user: _root, ...rest } = opts;
      return driver.execOnNode(cluster, node, argv, rest);
    },
  };
}

export function controlPlaneNode(cluster: string): string {
  return `${cluster}-control-plane`;
}

/** kubectl as cluster admin inside the control-plane node. */
export function nodeAdminKubectl(driver: Pick<ClusterDriver, 'execOnNode'>, cluster: string, extra: Partial<KubectlOptions> = {}): Kubectl {
  return new Kubectl({ shell: nodeShell(driver, cluster, controlPlaneNode(cluster)), kubeconfig: ADMIN_KUBECONFIG, ...extra });
}
