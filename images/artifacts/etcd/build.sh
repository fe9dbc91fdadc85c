#!/usr/bin/env bash
# etcd pinned to the exact version kubeadm v1.34 names (3.6.5-0), so the image
# tag we give it tells the truth.
set -euo pipefail
: "${OUT:?}" "${RECIPE_DIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$RECIPE_DIR/go.mod" "$RECIPE_DIR/go.sum" "$work/"
cd "$work"
mkdir -p "$OUT/bin"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/bin/etcd" go.etcd.io/etcd/server/v3
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/bin/etcdctl" go.etcd.io/etcd/etcdctl/v3
# (no `| grep -q`: with pipefail an early grep exit is SIGPIPE, status 141)
[[ $("$OUT/bin/etcd" --version) == *"etcd Version: 3.6.5"* ]]
echo 3.6.5 > "$OUT/VERSION"
