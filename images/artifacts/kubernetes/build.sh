#!/usr/bin/env bash
# Builds the Kubernetes v1.34 server and client binaries from the k8s.io/kubernetes
# Go module through the wrapper module in this folder (go.mod pins the staging modules).
set -euo pipefail

: "${OUT:?}" "${RECIPE_DIR:?}"
KUBE_VERSION=v1.34.4
# Deterministic build date (the module's publish time) so equal recipes give equal binaries.
BUILD_DATE=2026-02-10T12:53:36Z
COMMANDS=(kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$RECIPE_DIR/go.mod" "$RECIPE_DIR/go.sum" "$work/"
cd "$work"

major=${KUBE_VERSION#v}; major=${major%%.*}
minor=${KUBE_VERSION#v*.}; minor=${minor%%.*}
ldflags="-s -w"
# kubeadm, kubectl and the components read component-base; client-go's copy is set too
# so `kubectl version` reports the same on both sides.
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION"
  ldflags+=" -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$BUILD_DATE"
done

pkgs=()
for c in "${COMMANDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done

mkdir -p "$OUT/bin"
# Static binaries, as upstream ships them (KUBE_STATIC_LIBRARIES covers all of these).
CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$OUT/bin/" "${pkgs[@]}"

[[ $("$OUT/bin/kubeadm" version -o short) == "$KUBE_VERSION" ]]
printf '%s\n' "$KUBE_VERSION" > "$OUT/VERSION"
