#!/usr/bin/env bash
# Gateway API CRDs for Traefik's kubernetesgateway provider. v1.4.0 is the version
# Traefik v3.6.12 requires (images/artifacts/traefik/go.mod: sigs.k8s.io/gateway-api
# v1.4.0), so its informers and the CRDs agree; the proxy also serves newer ones
# (v1.5.x–v1.7.0), which Traefik v3.6 was not built against.
# Standard channel only: Traefik's provider runs without --experimentalChannel, and it
# watches every standard kind (HTTPRoute, GRPCRoute, ReferenceGrant, BackendTLSPolicy),
# so all six must exist. The YAML is the module's own (API definitions: copied, not
# rewritten, not committed). Output: crds/*.yaml, VERSION. No binary, no image: the
# add-on installer applies the CRDs after `svclab up`, so the node image is unchanged.
set -euo pipefail
: "${OUT:?}"
VERSION=v1.4.0
MODULE=sigs.k8s.io/gateway-api

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT/crds"

# The module zip holds config/crd; `go mod download` unpacks it into GOMODCACHE (read-only).
dir=$(cd "$work" && GOFLAGS= go mod download -json "$MODULE@$VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
for f in "$dir"/config/crd/standard/gateway.networking.k8s.io_*.yaml; do
  install -m 0644 "$f" "$OUT/crds/"
done
ls "$OUT/crds" | tee "$work/crds.txt"
for kind in gatewayclasses gateways httproutes grpcroutes referencegrants backendtlspolicies; do
  grep -qx "gateway.networking.k8s.io_$kind.yaml" "$work/crds.txt"
done
# Each file says which bundle and channel it is: refuse anything but what we asked for.
for f in "$OUT"/crds/*.yaml; do
  grep -q "gateway.networking.k8s.io/bundle-version: $VERSION\$" "$f"
  grep -q 'gateway.networking.k8s.io/channel: standard$' "$f"
done
echo "$VERSION" > "$OUT/VERSION"
