// What the runner's check port adds to a session's CheckContext once the session
// has a cluster: the API (from the driver's host kubeconfig) and the vantage points.
import type { ClusterDriver } from '../cluster/cluster-driver.ts';
import type { ContainerEngine } from '../engine/container-engine.ts';
import type { CommandRunner } from '../exec/command-runner.ts';
import type { CheckContext } from './check.ts';
import { ClientNodeKubeApi } from './kube-api.ts';
import { ClusterVantageExec } from './vantage.ts';

export async function clusterCheckContext(opts: {
  driver: ClusterDriver;
  cluster: string;
  engine: ContainerEngine;
  workstation: string;
  user?: string;
  host?: CommandRunner;
}): Promise<Pick<CheckContext, 'kube' | 'vantage'>> {
  const kube = new ClientNodeKubeApi(await opts.driver.kubeconfig(opts.cluster, 'host'));
  const vantage = new ClusterVantageExec({
    engine: opts.engine,
    workstation: opts.workstation,
    cluster: { driver: opts.driver, name: opts.cluster },
    ...(opts.user ? { user: opts.user } : {}),
    ...(opts.host ? { host: opts.host } : {}),
  });
  return { kube, vantage };
}
