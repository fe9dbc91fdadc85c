#!/usr/bin/env bash
# The workstation image: a Debian bookworm rootfs made with debootstrap, a non-root
# user `learner` (uid 1000) with a friendly prompt and bash completion, packed into a
# `FROM scratch` docker build context in $OUT. Nothing is pulled from a registry.
#
# Two cached steps: the debootstrap rootfs (slow, ~1 min) is kept as a tar under
# $SVCLAB_CACHE/debootstrap/, keyed by suite + variant + package list, so editing the
# prompt or the user setup below only repeats the quick second step.
# Needs root (debootstrap, chroot).
set -euo pipefail
: "${OUT:?}" "${RECIPE_DIR:?}" "${SVCLAB_CACHE:?}"

SUITE=bookworm
source "$RECIPE_DIR/../lib/debian-mirror.sh"
MIRROR=$(debian_mirror)
# tini is PID 1: it reaps the processes learners leave behind (sleep would not).
PACKAGES=(bash coreutils curl dnsutils openssl jq iproute2 iputils-ping less vim-tiny
  bash-completion ca-certificates procps netcat-openbsd tini)

step() { echo "==> $*"; }

# Remove a scratch dir, unmounting first whatever a killed debootstrap left mounted
# in it (proc, sys), so rm never walks into a live /proc or /sys.
scrub() {
  local dir="$1" m
  [[ -d "$dir" ]] || return 0
  while read -r m; do umount -l "$m" 2>/dev/null || true; done \
    < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}
[[ "$(id -u)" == 0 ]] || { echo "workstation: debootstrap needs root; run svclab images build as root" >&2; exit 1; }

# --- step 1: the debootstrap rootfs, cached on its own ---
key=$(printf '%s\n' format-1 "$SUITE" minbase "${PACKAGES[@]}" | sha256sum | cut -c1-16)
base_dir="$SVCLAB_CACHE/debootstrap"
base="$base_dir/workstation-$SUITE-$key.tar"
mkdir -p "$base_dir"
# Scratch dirs of builds that were killed (their pid is gone).
for d in "$base_dir"/.tmp-workstation-* "$SVCLAB_CACHE"/.tmp-workstation-*; do
  [[ -d "$d" ]] || continue
  pid="${d##*/.tmp-workstation-}"; pid="${pid%%-*}"
  if [[ "$pid" =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null; then scrub "$d"; fi
done
if [[ -f "$base" ]]; then
  step "debootstrap rootfs cached: $base"
else
  step "debootstrap --variant=minbase $SUITE (${PACKAGES[*]})"
  t0=$SECONDS
  tmp=$(mktemp -d "$base_dir/.tmp-workstation-$$-XXXXXX")
  trap 'scrub "$tmp"' EXIT
  include=$(IFS=,; echo "${PACKAGES[*]}")
  debootstrap --variant=minbase --include="$include" "$SUITE" "$tmp/rootfs" "$MIRROR"
  # Nothing of apt's download cache or lists belongs in an image.
  rm -rf "$tmp/rootfs/var/cache/apt/archives/"*.deb "$tmp/rootfs/var/lib/apt/lists/"*
  tar -C "$tmp/rootfs" --numeric-owner --xattrs -cf "$tmp/rootfs.tar" .
  mv "$tmp/rootfs.tar" "$base"
  scrub "$tmp"
  trap - EXIT
  step "debootstrap done in $((SECONDS - t0)) s"
fi

# --- step 2: the learner's setup on a copy of it ---
work=$(mktemp -d "$SVCLAB_CACHE/.tmp-workstation-$$-XXXXXX")
trap 'scrub "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root"
tar -C "$root" --numeric-owner --xattrs -xpf "$base"

step "user learner (uid 1000), prompt, bash completion"
chroot "$root" /usr/sbin/groupadd --gid 1000 learner
chroot "$root" /usr/sbin/useradd --uid 1000 --gid 1000 --create-home --shell /bin/bash learner
install -m 0644 "$RECIPE_DIR/files/svclab.sh" "$root/etc/profile.d/svclab.sh"
install -m 0644 "$RECIPE_DIR/files/bashrc" "$root/etc/bash.bashrc"
install -m 0644 "$RECIPE_DIR/files/vimrc.local" "$root/etc/vim/vimrc.local"
install -m 0644 "$RECIPE_DIR/files/motd" "$root/etc/motd"
install -m 0644 "$RECIPE_DIR/files/motd.zh-cn" "$root/etc/motd.zh-cn"
# The session keeper for terminals attached through the Kubernetes API (runner/src/terminals/):
# script(1) from bsdutils, flock/fallocate/setsid from util-linux, perl-base — all in minbase.
install -m 0755 "$RECIPE_DIR/files/svclab-term" "$root/usr/local/bin/svclab-term"
# The user's own .bashrc only sources the system one, so the prompt is ours.
printf '%s\n' '# svclab: the prompt and completion live in /etc/bash.bashrc' '[ -f /etc/bash.bashrc ] && . /etc/bash.bashrc' \
  >"$root/home/learner/.bashrc"
# ~/.kube exists so the runner can drop a kubeconfig in (or mount one over it).
install -d -m 0700 "$root/home/learner/.kube"
chroot "$root" /bin/chown learner:learner /home/learner/.bashrc /home/learner/.kube
echo svclab >"$root/etc/hostname"

# kubectl, once the image recipe lists the kubernetes artifact.
if [[ -n "${ARTIFACT_KUBERNETES:-}" && -x "${ARTIFACT_KUBERNETES}/bin/kubectl" ]]; then
  step "kubectl from $ARTIFACT_KUBERNETES"
  install -m 0755 "$ARTIFACT_KUBERNETES/bin/kubectl" "$root/usr/local/bin/kubectl"
  chroot "$root" /usr/local/bin/kubectl completion bash >"$root/usr/share/bash-completion/completions/kubectl"
  echo "kubectl talks to your lab cluster (alias k)." >>"$root/etc/motd"
  echo "kubectl 连接的是你的实验集群（别名 k）。" >>"$root/etc/motd.zh-cn"
fi

# Smaller image: docs, man pages and foreign locales are of no use in a lab shell.
rm -rf "$root/usr/share/doc/"* "$root/usr/share/man/"* "$root/usr/share/info/"* "$root/var/log/"*.log \
  "$root/var/cache/debconf/"*-old "$root/var/lib/dpkg/"*-old
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true

step "rootfs.tar and Dockerfile"
tar -C "$root" --numeric-owner --xattrs -cf "$OUT/rootfs.tar" .
cp "$RECIPE_DIR/Dockerfile" "$OUT/Dockerfile"
du -sh "$OUT/rootfs.tar"
