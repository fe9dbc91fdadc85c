#!/usr/bin/env bash
# Creates kubelet's cgroup root (/kubelet and /kubelet.slice; kind configures
# cgroupRoot=/kubelet) before kubelet starts. Run by the entrypoint and again as
# kubelet's ExecStartPre, since systemd may prune empty cgroups.
set -o errexit -o nounset -o pipefail

if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
  # cgroup v2 (not measured on svclab's own machines): delegate every available
  # controller down to kubelet's root. This must run after systemd has moved
  # itself out of the root cgroup, hence only from kubelet's ExecStartPre.
  enable_controllers() {
    local group=$1 c
    for c in $(cat "$group/cgroup.controllers"); do
      echo "+$c" > "$group/cgroup.subtree_control" 2>/dev/null || echo "kubelet-cgroups: cannot enable $c in $group" >&2
    done
  }
  enable_controllers /sys/fs/cgroup
  for d in kubelet kubelet.slice; do
    mkdir -p "/sys/fs/cgroup/$d"
    enable_controllers "/sys/fs/cgroup/$d"
  done
  exit 0
fi

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
