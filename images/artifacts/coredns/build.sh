#!/usr/bin/env bash
# CoreDNS v1.12.1: the tag kubeadm v1.34 deploys (registry.k8s.io/coredns/coredns:v1.12.1).
# Its go.mod has no replace directives, so `go install mod@version` works.
set -euo pipefail
: "${OUT:?}"
mkdir -p "$OUT/bin"
GOBIN="$OUT/bin" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" github.com/coredns/coredns@v1.12.1
[[ $("$OUT/bin/coredns" -version) == *CoreDNS-1.12.1* ]]
echo v1.12.1 > "$OUT/VERSION"
