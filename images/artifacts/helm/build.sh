#!/usr/bin/env bash
# helm v3.22.0 is the newest helm.sh/helm/v3 the Go module proxy serves; its go.mod
# has no replace directives, so `go install mod@version` works. The version string
# is set as helm's Makefile sets it (internal/version.version), else `helm version`
# says only "v3.22".
set -euo pipefail
: "${OUT:?}"
V=v3.22.0
mkdir -p "$OUT/bin"
GOBIN="$OUT/bin" CGO_ENABLED=0 go install -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$V -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
  "helm.sh/helm/v3/cmd/helm@$V"
[[ $("$OUT/bin/helm" version --template '{{.Version}}') == "$V" ]]
echo "$V" > "$OUT/VERSION"
