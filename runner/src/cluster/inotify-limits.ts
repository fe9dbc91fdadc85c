// Each kind node runs systemd, containerd and kubelet, and each of them takes
// inotify instances from the host's per-user limit (fs.inotify.max_user_instances,
// 128 by default), shared by every node of every cluster. When it runs out,
// kubelet dies with "inotify_init: too many open files" and the node never
// becomes Ready: measured here with 8 nodes up. Check before making nodes.

import { readdir, readFile, readlink } from 'node:fs/promises';
import { RunnerError } from '../errors.ts';

export interface InotifyUsage {
  limit: number;
  inUse: number;
}

/** Instances one node takes (about 10 measured at idle) plus headroom for start-up and pods. */
export const INOTIFY_PER_NODE = 16;

/** Reads the limit and counts inotify file descriptors of every visible process. */
export async function hostInotifyUsage(procDir = '/proc'): Promise<InotifyUsage> {
  const limit = Number((await readFile(`${procDir}/sys/fs/inotify/max_user_instances`, 'utf8')).trim());
  let inUse = 0;
  const pids = (await readdir(procDir)).filter((p) => /^\d+$/.test(p));
  for (const pid of pids) {
    const fds = await readdir(`${procDir}/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`${procDir}/${pid}/fd/${fd}`).catch(() => '');
      if (target === 'anon_inode:inotify') inUse++;
    }
  }
  return { limit, inUse };
}

export function assertInotifyRoom(usage: InotifyUsage, nodes: number): string {
  const needed = nodes * INOTIFY_PER_NODE;
  const free = usage.limit - usage.inUse;
  const summary = `${usage.inUse} of ${usage.limit} inotify instances in use; ${nodes} node(s) need about ${needed}`;
  if (free >= needed) return summary;
  throw new RunnerError('CLUSTER_FAILED', {
    message: `Not enough inotify instances for ${nodes} more node(s): ${summary}. Kubelet would fail with "too many open files" and the nodes would never be Ready.`,
    hint: 'As root: sysctl -w fs.inotify.max_user_instances=512 fs.inotify.max_user_watches=524288 (kind\'s documented fix), or remove clusters you no longer use (`svclab down --all`).',
    details: { ...usage, needed },
  });
}
