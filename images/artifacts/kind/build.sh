#!/usr/bin/env bash
# kind v0.33.0 is the newest release the Go module proxy serves. Its
# validateProvider (pkg/cluster/internal/create/create.go) only *warns* on a
# cgroup v1 host ("cgroup v1 is deprecated …") unless the provider is rootless,
# and the node-readiness wait still accepts the entrypoint's "detected cgroup v1"
# log line, so it works on our cgroup v1 machines. A later kind that refuses
# cgroup v1 must not be taken without checking that function again.
set -euo pipefail
: "${OUT:?}"
mkdir -p "$OUT/bin"
GOBIN="$OUT/bin" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" sigs.k8s.io/kind@v0.33.0
[[ $("$OUT/bin/kind" version) == "kind v0.33.0 "* ]]
echo v0.33.0 > "$OUT/VERSION"
