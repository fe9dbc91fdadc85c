#!/usr/bin/env bash
set -euo pipefail
: "${OUT:?}"
v=v1.34.0
mkdir -p "$OUT/bin"
GOBIN="$OUT/bin" CGO_ENABLED=0 go install -trimpath \
  -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$v" sigs.k8s.io/cri-tools/cmd/crictl@$v
echo "$v" > "$OUT/VERSION"
