#!/usr/bin/env bash
# Traefik v3.6.12, the newest v3.6 patch the Go module proxy serves, built through
# the wrapper module in this folder (go.mod/go.sum: upstream's requirements, resolved
# by `go mod tidy`, plus upstream's three replace lines). The web dashboard is not
# built (its static assets are a yarn build, not in the module): svclab runs Traefik
# with the kubernetesingress provider only and no API/dashboard.
# Output: bin/traefik, VERSION, images/traefik.tar (svclab/traefik:v3.6.12, FROM
# scratch) and images.txt ("<ref> <image id>" per line) for the installer.
set -euo pipefail
: "${OUT:?}" "${RECIPE_DIR:?}"
VERSION=v3.6.12
CODENAME=ramequin             # .github/workflows/release.yaml at v3.6.12
BUILD_DATE=2026-03-26T09:54:04Z # the module's publish time, so equal recipes give equal binaries

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$RECIPE_DIR/go.mod" "$RECIPE_DIR/go.sum" "$work/"
cd "$work"

pkg=github.com/traefik/traefik/v3/pkg/version
mkdir -p "$OUT/bin" "$OUT/images"
CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X $pkg.Version=$VERSION -X $pkg.Codename=$CODENAME -X $pkg.BuildDate=$BUILD_DATE" \
  -o "$OUT/bin/traefik" github.com/traefik/traefik/v3/cmd/traefik
"$OUT/bin/traefik" version | tee "$work/version.txt"
grep -Eq "Version: *v?${VERSION#v}\$" "$work/version.txt"
echo "$VERSION" > "$OUT/VERSION"

# The image: the binary, an empty /tmp, and nothing else. It runs as root with only
# NET_BIND_SERVICE (set in the manifests): the DaemonSet mode binds the node's 80/443.
root="$work/rootfs"
mkdir -p "$root/tmp"
chmod 1777 "$root/tmp"
install -m 0755 "$OUT/bin/traefik" "$root/traefik"
python3 "$RECIPE_DIR/image-tar.py" --name "svclab/traefik:$VERSION" --rootfs "$root" \
  --out "$OUT/images/traefik.tar" --entrypoint /traefik | tee "$OUT/images.txt"
