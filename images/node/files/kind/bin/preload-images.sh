#!/usr/bin/env bash
# Imports the OCI image tars under /kind/images into containerd's k8s.io
# namespace (the one the CRI plugin serves), once per node: the marker lives on
# the node's /var volume. --no-unpack: containerd's CRI plugin unpacks a layer
# the first time a container uses it, so nodes only pay for the images they run.
set -o errexit -o nounset -o pipefail
marker=/var/lib/svclab/images-imported
ns=(--namespace=k8s.io)
for _ in $(seq 1 60); do
  ctr version >/dev/null 2>&1 && break
  sleep 0.5
done
for tar in /kind/images/*.tar; do
  ctr "${ns[@]}" images import --no-unpack "$tar" >/dev/null
done
# pinned: kubelet's image garbage collection must never remove them (nothing can be pulled back)
while read -r ref; do
  ctr "${ns[@]}" images label "$ref" io.cri-containerd.pinned=pinned >/dev/null
done < /kind/images.txt
ctr "${ns[@]}" images list -q | grep -v '^sha256:' | sed 's/^/preloaded: /'
mkdir -p "$(dirname "$marker")"
date -u +%FT%TZ > "$marker"
