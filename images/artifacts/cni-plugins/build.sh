#!/usr/bin/env bash
set -euo pipefail
: "${OUT:?}"
v=v1.10.0
m=github.com/containernetworking/plugins/plugins
mkdir -p "$OUT/bin"
GOBIN="$OUT/bin" CGO_ENABLED=0 go install -trimpath \
  -ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$v" \
  "$m/main/bridge@$v" "$m/ipam/host-local@$v" "$m/main/loopback@$v" "$m/meta/portmap@$v" "$m/main/ptp@$v"
echo "$v" > "$OUT/VERSION"
