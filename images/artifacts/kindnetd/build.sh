#!/usr/bin/env bash
# Upstream kindnetd lives in the nested module sigs.k8s.io/kind/images/kindnetd,
# which the Go module proxy does not serve (`go list -m -versions` falls back to
# direct and fails: "unrecognized import path"), so we build our own (main.go).
set -euo pipefail
: "${OUT:?}" "${RECIPE_DIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$RECIPE_DIR/go.mod" "$RECIPE_DIR/main.go" "$work/"
cd "$work"
mkdir -p "$OUT/bin"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/bin/kindnetd" .
echo v0.1.0 > "$OUT/VERSION"
