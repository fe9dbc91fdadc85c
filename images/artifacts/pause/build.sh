#!/usr/bin/env bash
# The pause container's C source ships inside the k8s.io/kubernetes module zip;
# kubeadm v1.34 asks for registry.k8s.io/pause:3.10.1.
set -euo pipefail
: "${OUT:?}"
src=$(cd "$(mktemp -d)" && go mod download -json k8s.io/kubernetes@v1.34.4 | jq -r .Dir)/build/pause/linux
mkdir -p "$OUT/bin"
gcc -Os -Wall -Werror -static -DVERSION=v3.10.1-svclab -o "$OUT/bin/pause" "$src/pause.c"
strip "$OUT/bin/pause"
[[ $("$OUT/bin/pause" -v 2>&1) == *v3.10.1* ]]
echo 3.10.1 > "$OUT/VERSION"
