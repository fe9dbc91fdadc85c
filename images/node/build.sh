#!/usr/bin/env bash
# Assembles the kind node image build context: the cached debootstrap rootfs
# (artifact node-rootfs) + files/ + the built binaries + the component image
# tars, squashed into one rootfs.tar, and a FROM scratch Dockerfile.
# Editing anything here reuses the cached rootfs: debootstrap never reruns.
set -euo pipefail
: "${OUT:?}" "${RECIPE_DIR:?}" "${ARTIFACT_NODE_ROOTFS:?}" "${ARTIFACT_KUBERNETES:?}"
: "${ARTIFACT_CNI_PLUGINS:?}" "${ARTIFACT_CRICTL:?}" "${ARTIFACT_COMPONENT_IMAGES:?}"
: "${ARTIFACT_TRAEFIK:?}" "${ARTIFACT_METALLB:?}" "${IMAGE_WEB:?}"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
tar --numeric-owner -xf "$ARTIFACT_NODE_ROOTFS/rootfs.tar" -C "$root"

# --- systemd: only what a node needs ---------------------------------------------
# Timers, gettys and scrub jobs make no sense in a container; kmsg is the host's.
rm -f "$root"/etc/systemd/system/{getty,timers,sysinit}.target.wants/* \
      "$root"/etc/systemd/system/multi-user.target.wants/{e2scrub_reap.service,remote-fs.target}
for unit in systemd-binfmt.service systemd-modules-load.service getty@.service console-getty.service \
            systemd-firstboot.service sys-kernel-debug.mount sys-kernel-tracing.mount \
            getty-static.service ipvsadm.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nReadKMsg=no\n' > "$root/etc/systemd/journald.conf.d/10-svclab.conf"

# --- our files ------------------------------------------------------------------------
cp -a "$RECIPE_DIR/files/." "$root/"
pause_image=$(cat "$ARTIFACT_COMPONENT_IMAGES/pause-image")
kindnetd_image=$(cat "$ARTIFACT_COMPONENT_IMAGES/kindnetd-image")
sed -i "s|@PAUSE_IMAGE@|$pause_image|" "$root/etc/containerd/config.toml"
sed -i "s|@KINDNETD_IMAGE@|$kindnetd_image|" "$root/kind/manifests/default-cni.yaml"
for unit in svclab-preload-images.service kubelet.service; do
  ln -sf "/etc/systemd/system/$unit" "$root/etc/systemd/system/multi-user.target.wants/$unit"
done
# Debian already enables containerd; keep it explicit.
ln -sf /lib/systemd/system/containerd.service "$root/etc/systemd/system/multi-user.target.wants/containerd.service"

# --- binaries and images --------------------------------------------------------------
# kind and kubeadm's unit expect kubelet, kubeadm and kubectl in /usr/bin.
install -m 0755 "$ARTIFACT_KUBERNETES"/bin/{kubelet,kubeadm,kubectl} "$root/usr/bin/"
install -m 0755 "$ARTIFACT_CRICTL/bin/crictl" "$root/usr/bin/"
mkdir -p "$root/opt/cni/bin" "$root/etc/cni/net.d" "$root/kind/images" \
         "$root/etc/kubernetes/manifests" "$root/lib/modules"
install -m 0755 "$ARTIFACT_CNI_PLUGINS"/bin/* "$root/opt/cni/bin/"
cp "$ARTIFACT_COMPONENT_IMAGES"/images/*.tar "$root/kind/images/"
cp "$ARTIFACT_COMPONENT_IMAGES/images.txt" "$root/kind/images.txt"
# svclab's own images too: the addons (Traefik, MetalLB) and the labs' svclab/web, so a
# new cluster needs no `kind load` (14-29 s per cluster measured). Layers gzipped: the
# boot-time import only copies blobs. The names are containerd's (docker.io/...), as
# the preload script pins them by these names.
pack() { # src-tar name
  python3 "$RECIPE_DIR/lib/pack-image.py" --in "$1" --name "$2" --out "$root/kind/images/svclab-$(basename "${2%%:*}").tar"
  echo "docker.io/$2" >> "$root/kind/images.txt"
}
for art in "$ARTIFACT_TRAEFIK" "$ARTIFACT_METALLB"; do
  while read -r ref _; do
    pack "$art/images/$(basename "${ref%%:*}").tar" "$ref"
  done < "$art/images.txt"
done
scratch=$(mktemp -d)
docker save "$IMAGE_WEB" -o "$scratch/web.tar"
# the name lab manifests use (imagePullPolicy: Never)
pack "$scratch/web.tar" svclab/web:latest
rm -rf "$scratch"
# kind reads the Kubernetes version from here (no trailing newline, as kind writes it)
printf '%s' "$(cat "$ARTIFACT_KUBERNETES/VERSION")" > "$root/kind/version"
cp "$ARTIFACT_NODE_ROOTFS/packages.lock" "$root/kind/packages.lock"
# regenerated per node by the entrypoint
: > "$root/etc/machine-id"

tar --numeric-owner --xattrs -C "$root" -cf "$OUT/rootfs.tar" .
cat > "$OUT/Dockerfile" <<'DOCKERFILE'
FROM scratch
ADD rootfs.tar /
# systemd detects the container from this; it stops on SIGRTMIN+3 (SIGTERM re-executes it)
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
DOCKERFILE
