#!/usr/bin/env bash
# Needs root (debootstrap creates device nodes and chowns files) and a Debian
# mirror (the one apt on this machine uses, or SVCLAB_DEBIAN_MIRROR). Nothing else is fetched.
set -euo pipefail
: "${OUT:?}" "${RECIPE_DIR:?}"
source "$RECIPE_DIR/../../lib/debian-mirror.sh"
mirror=$(debian_mirror)
suite=bookworm

if [[ $(id -u) != 0 ]]; then
  echo "node-rootfs: debootstrap needs root" >&2
  exit 1
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
include=$(grep -v '^\s*#' "$RECIPE_DIR/packages.txt" | grep -v '^\s*$' | paste -sd, -)
debootstrap --variant=minbase --include="$include" "$suite" "$root" "$mirror"

# Shrink: package caches, docs, man pages and locales a node never reads.
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/debconf/*-old "$root"/var/log/* \
       "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*
find "$root"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
# Recorded for the image and for the report.
chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' > "$OUT/packages.lock"

tar --numeric-owner --xattrs -C "$root" -cf "$OUT/rootfs.tar" .
