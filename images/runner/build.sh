#!/usr/bin/env bash
# The runner image the Helm chart's Deployment runs (`svclab workshop serve --store kube`):
# a Debian bookworm rootfs from debootstrap (ca-certificates, tini), Node 24 from the
# project's own `node` devDependency (node_modules/node/bin/node), and svclab itself
# (package.json, bin/, runner/src, labs/, production node_modules) and the built site
# (astro build of site/ into /opt/svclab/dist, served on the API's origin), packed into a
# `FROM scratch` docker build context in $OUT. Nothing is pulled from a registry. Runs
# as uid 10001 (the chart's runAsUser), HOME /home/svclab.
#
# A recipe built on request (image.json `onRequest`): `svclab images build runner`.
# image.json's `inputs` put what this copies from the checkout into the recipe's hash,
# so the tag svclab/runner:<hash16> changes when runner/src, labs, bin or the lockfile do.
# Needs root (debootstrap, chroot).
set -euo pipefail
: "${OUT:?}" "${RECIPE_DIR:?}" "${SVCLAB_CACHE:?}"
REPO=$(cd "$RECIPE_DIR/../.." && pwd)

SUITE=bookworm
source "$RECIPE_DIR/../lib/debian-mirror.sh"
PACKAGES=(ca-certificates tini)

step() { echo "==> $*"; }
scrub() {
  local dir="$1" m
  [[ -d "$dir" ]] || return 0
  while read -r m; do umount -l "$m" 2>/dev/null || true; done \
    < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}
[[ "$(id -u)" == 0 ]] || { echo "runner: debootstrap needs root" >&2; exit 1; }
node_bin="$REPO/node_modules/node/bin/node"
[[ -x "$node_bin" ]] || { echo "runner: $node_bin missing; run npm ci in $REPO" >&2; exit 1; }

# --- step 1: the debootstrap rootfs, cached on its own ---
key=$(printf '%s\n' format-1 "$SUITE" minbase "${PACKAGES[@]}" | sha256sum | cut -c1-16)
base_dir="$SVCLAB_CACHE/debootstrap"
base="$base_dir/runner-$SUITE-$key.tar"
mkdir -p "$base_dir"
if [[ -f "$base" ]]; then
  step "debootstrap rootfs cached: $base"
else
  MIRROR=$(debian_mirror)
  step "debootstrap --variant=minbase $SUITE (${PACKAGES[*]}) from $MIRROR"
  t0=$SECONDS
  tmp=$(mktemp -d "$base_dir/.tmp-runner-$$-XXXXXX")
  trap 'scrub "$tmp"' EXIT
  debootstrap --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" "$SUITE" "$tmp/rootfs" "$MIRROR"
  rm -rf "$tmp/rootfs/var/cache/apt/archives/"*.deb "$tmp/rootfs/var/lib/apt/lists/"*
  tar -C "$tmp/rootfs" --numeric-owner --xattrs -cf "$tmp/rootfs.tar" .
  mv "$tmp/rootfs.tar" "$base"
  scrub "$tmp"
  trap - EXIT
  step "debootstrap done in $((SECONDS - t0)) s"
fi

# --- step 2: node and svclab on a copy of it ---
work=$(mktemp -d "$SVCLAB_CACHE/.tmp-runner-$$-XXXXXX")
trap 'scrub "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root"
tar -C "$root" --numeric-owner --xattrs -xpf "$base"

step "node $("$node_bin" --version) → /usr/local/bin/node"
install -m 0755 "$node_bin" "$root/usr/local/bin/node"
strip --strip-debug "$root/usr/local/bin/node" 2>/dev/null || true

step "svclab: package.json, bin, runner/src, labs"
app="$root/opt/svclab"
mkdir -p "$app/runner"
cp "$REPO/package.json" "$REPO/package-lock.json" "$app/"
cp -a "$REPO/bin" "$app/bin"
cp -a "$REPO/runner/src" "$app/runner/src"
cp -a "$REPO/labs" "$app/labs"
git -C "$REPO" rev-parse HEAD >"$app/COMMIT" 2>/dev/null || true

step "the site (astro build → /opt/svclab/dist): the lesson pages, join page and instructor page the runner serves"
t0=$SECONDS
(cd "$REPO" && "$node_bin" node_modules/astro/bin/astro.mjs build --silent --outDir "$app/dist")
[[ -f "$app/dist/index.html" ]] || { echo "runner: astro build made no $app/dist/index.html" >&2; exit 1; }
step "site built in $((SECONDS - t0)) s ($(du -sh "$app/dist" | cut -f1))"

step "production node_modules (a copy of the checkout's, pruned offline)"
cp -a "$REPO/node_modules" "$app/node_modules"
# npm prune only deletes (--offline: no registry is asked). The `node` package's binary is in /usr/local/bin.
(cd "$app" && npm prune --omit=dev --ignore-scripts --offline --no-audit --no-fund >/dev/null)
rm -rf "$app/node_modules/node" "$app/node_modules/.bin/node"
du -sh "$app/node_modules"

step "user svclab (uid 10001), HOME /home/svclab"
echo 'svclab:x:10001:10001:svclab runner:/home/svclab:/usr/sbin/nologin' >>"$root/etc/passwd"
echo 'svclab:x:10001:' >>"$root/etc/group"
install -d -o 10001 -g 10001 -m 0755 "$root/home/svclab"

rm -rf "$root/usr/share/doc/"* "$root/usr/share/man/"* "$root/usr/share/info/"* "$root/var/log/"*.log
step "rootfs.tar and Dockerfile"
tar -C "$root" --numeric-owner --xattrs -cf "$OUT/rootfs.tar" .
cp "$RECIPE_DIR/Dockerfile" "$OUT/Dockerfile"
du -sh "$OUT/rootfs.tar"
