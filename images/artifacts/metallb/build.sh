#!/usr/bin/env bash
# MetalLB v0.16.2, the newest release the Go module proxy serves (module path
# go.universe.tf/metallb; github.com/metallb/metallb is not served), built through the
# wrapper module in this folder: one of its requirements (frr-k8s v0.0.27) is refused by
# the proxy, see go.mod for the error and the replacement.
# Output: bin/{controller,speaker}, VERSION, crds/*.yaml (the module's own
# config/crd/bases, copied at build time: CRDs are API, svclab does not rewrite them),
# images/{metallb-controller,metallb-speaker}.tar and images.txt ("<ref> <image id>").
set -euo pipefail
: "${OUT:?}" "${RECIPE_DIR:?}"
VERSION=v0.16.2
MODULE=go.universe.tf/metallb

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT/bin" "$OUT/images" "$OUT/crds"
cp "$RECIPE_DIR/go.mod" "$RECIPE_DIR/go.sum" "$work/"

# Upstream's go.mod asks for `toolchain go1.26.9`; its `go 1.26.0` line is the real
# minimum, so build with the local toolchain instead of fetching another one.
export GOTOOLCHAIN=local
(cd "$work" && CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X $MODULE/internal/version.gitBranch=$VERSION" \
  -o "$OUT/bin/" "$MODULE/controller" "$MODULE/speaker")
"$OUT/bin/controller" --help > "$work/help.txt" 2>&1 || true
grep -q -- -webhook-mode "$work/help.txt"

# The CRDs ship in the module zip; `go mod download` puts it in GOMODCACHE (read-only).
dir=$(cd "$work" && go mod download -json "$MODULE@$VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
for f in "$dir"/config/crd/bases/*.yaml; do
  install -m 0644 "$f" "$OUT/crds/"
done
ls "$OUT/crds" | tee "$work/crds.txt"
grep -qx metallb.io_ipaddresspools.yaml "$work/crds.txt"
grep -qx metallb.io_l2advertisements.yaml "$work/crds.txt"
echo "$VERSION" > "$OUT/VERSION"

# One image per binary: the binary and an empty /tmp. The manifests set the user
# (controller: 65534) and capabilities (speaker: NET_RAW for ARP).
for c in controller speaker; do
  root="$work/rootfs-$c"
  mkdir -p "$root/tmp"
  chmod 1777 "$root/tmp"
  install -m 0755 "$OUT/bin/$c" "$root/$c"
  python3 "$RECIPE_DIR/image-tar.py" --name "svclab/metallb-$c:$VERSION" --rootfs "$root" \
    --out "$OUT/images/metallb-$c.tar" --entrypoint "/$c"
done | tee "$OUT/images.txt"
