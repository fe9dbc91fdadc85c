#!/usr/bin/env bash
# MetalLB v0.15.2: the newest release whose whole module graph the Go module proxy
# serves. The proxy lists go.universe.tf/metallb v0.11.0 v0.12.1 v0.13.5 v0.15.2 v0.16.2
# (github.com/metallb/metallb is not served), but v0.16.2 requires
# github.com/metallb/frr-k8s v0.0.27, which the proxy refuses:
#   github.com/metallb/frr-k8s@v0.0.27: reading https://proxy.golang.org/github.com/metallb/frr-k8s/@v/v0.0.27.zip: 403 Forbidden
#   server response: This module version is not available.
# and replacing it with v0.0.21 (the newest frr-k8s served) does not compile
# (internal/bgp/frrk8s/frrk8s.go:281: unknown field PrefixesWithAsPathPrepend,
# undefined: frrv1beta1.AsPathPrependPrefixes). v0.15.2 requires frr-k8s v0.0.20, which
# is served, and has no replace directives, so `go install mod/pkg@version` works.
# Output: bin/{controller,speaker}, VERSION, crds/*.yaml (the module's own
# config/crd/bases, copied at build time: CRDs are API, svclab does not rewrite them),
# images/{metallb-controller,metallb-speaker}.tar and images.txt ("<ref> <image id>").
set -euo pipefail
: "${OUT:?}" "${RECIPE_DIR:?}"
VERSION=v0.15.2
MODULE=go.universe.tf/metallb

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT/bin" "$OUT/images" "$OUT/crds"

GOBIN="$OUT/bin" CGO_ENABLED=0 go install -trimpath \
  -ldflags "-s -w -X $MODULE/internal/version.gitBranch=$VERSION" \
  "$MODULE/controller@$VERSION" "$MODULE/speaker@$VERSION"
"$OUT/bin/controller" --help > "$work/help.txt" 2>&1 || true
grep -q -- -webhook-mode "$work/help.txt"

# The CRDs ship in the module zip; `go mod download` puts it in GOMODCACHE (read-only).
dir=$(cd "$work" && GOFLAGS= go mod download -json "$MODULE@$VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
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
