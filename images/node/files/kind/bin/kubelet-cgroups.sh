#!/usr/bin/env bash
# Creates kubelet's cgroup root (/kubelet and /kubelet.slice) in every cgroup v1
# hierarchy of the node; a no-op on cgroup v2. Run by the entrypoint and again
# before every kubelet start, since systemd may prune empty cgroups.
set -o errexit -o nounset -o pipefail
[[ -f /sys/fs/cgroup/cgroup.controllers ]] && exit 0
awk '$3 == "cgroup" {print $2}' /proc/self/mounts | while read -r m; do
  for d in kubelet kubelet.slice; do
    mkdir -p "$m/$d"
    # cpuset children start empty; a task can only join one with cpus and mems set.
    if [[ -f $m/cpuset.cpus && -z $(cat "$m/$d/cpuset.cpus") ]]; then
      cat "$m/cpuset.cpus" > "$m/$d/cpuset.cpus"
      cat "$m/cpuset.mems" > "$m/$d/cpuset.mems"
    fi
  done
done
