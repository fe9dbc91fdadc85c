#!/usr/bin/env bash
# Packages each component binary as an OCI image layout tar named exactly as
# `kubeadm config images list` names it, so the node never pulls anything.
# kube-proxy and kindnetd also need netfilter tools (iptables, nft, ip): those
# come as a slice of the node's own Debian rootfs (the packages' files plus the
# shared libraries they link), so node and pods run the same iptables 1.8.9.
set -euo pipefail
: "${OUT:?}" "${RECIPE_DIR:?}" "${ARTIFACT_KUBERNETES:?}" "${ARTIFACT_ETCD:?}" "${ARTIFACT_COREDNS:?}"
: "${ARTIFACT_PAUSE:?}" "${ARTIFACT_KINDNETD:?}" "${ARTIFACT_NODE_ROOTFS:?}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkimage() { python3 "$RECIPE_DIR/oci-image.py" "$@"; }
mkdir -p "$OUT/images"

kube_version=$(cat "$ARTIFACT_KUBERNETES/VERSION")
# The names kubeadm will ask the CRI for; compared with what we build below.
"$ARTIFACT_KUBERNETES/bin/kubeadm" config images list --kubernetes-version "$kube_version" \
  | LC_ALL=C sort > "$work/kubeadm-images.txt"

# --- netfilter slice of the node rootfs --------------------------------------
root="$work/root"
mkdir -p "$root"
tar -C "$root" -xf "$ARTIFACT_NODE_ROOTFS/rootfs.tar"
slice="$work/netfilter"
mkdir -p "$slice/usr/bin" "$slice/usr/sbin" "$slice/usr/lib/x86_64-linux-gnu" "$slice/usr/lib64" \
         "$slice/etc" "$slice/tmp" "$slice/run" "$slice/var/run"
chmod 1777 "$slice/tmp"
# merged /usr, as in the rootfs, so library and interpreter paths resolve the same way
for d in bin sbin lib lib64; do ln -s "usr/$d" "$slice/$d"; done
for pkg in iptables libxtables12 libip4tc2 libip6tc2 nftables libnftables1 iproute2 conntrack; do
  chroot "$root" dpkg -L "$pkg" | while read -r f; do
    [[ $f == /usr/share/* || $f == /etc/* ]] && continue
    if [[ -L "$root$f" || -f "$root$f" ]]; then printf '%s\n' "${f#/}"; fi
  done
done | sort -u > "$work/slice-files"
tar -C "$root" --no-recursion -cf - -T "$work/slice-files" | tar -C "$slice" -xf -
# update-alternatives links are made by postinst scripts, not listed by dpkg -L.
for alt in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  if [[ -L "$root/etc/alternatives/$alt" ]]; then
    mkdir -p "$slice/etc/alternatives"
    cp -a "$root/etc/alternatives/$alt" "$slice/etc/alternatives/"
    cp -a "$root/usr/sbin/$alt" "$slice/usr/sbin/"
  fi
done
cp -a "$root/etc/protocols" "$root/etc/services" "$slice/etc/" 2>/dev/null || true
cp -a "$root/etc/iproute2" "$slice/etc/" 2>/dev/null || true
# shared library closure, resolved inside the rootfs
find "$slice" -type f \( -perm -u+x -o -name '*.so*' \) -print | while read -r f; do
  chroot "$root" ldd "/${f#"$slice"/}" 2>/dev/null | awk '/=> \//{print $3} /^[[:space:]]*\/lib64\//{print $1}' || true
done | sort -u > "$work/libs"
while read -r lib; do
  # merged /usr: /lib/x and /usr/lib/x are the same file
  dest="$slice/usr/${lib#/usr/}"
  mkdir -p "$(dirname "$dest")"
  [[ -e $dest ]] || cp -L "$root$lib" "$dest"
done < "$work/libs"
# prove the slice runs on its own
chroot "$slice" /usr/sbin/iptables-nft --version
chroot "$slice" /usr/sbin/nft --version
chroot "$slice" /usr/sbin/ip -V
rm -rf "$root"

# --- images --------------------------------------------------------------------
stage() { # name -> fresh staging dir
  local d="$work/stage/$1"; rm -rf "$d"; mkdir -p "$d/usr/local/bin" "$d/tmp"; chmod 1777 "$d/tmp"; echo "$d"
}
reg=registry.k8s.io
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  d=$(stage "$c")
  cp "$ARTIFACT_KUBERNETES/bin/$c" "$d/usr/local/bin/"
  mkimage --name "$reg/$c:$kube_version" --rootfs "$d" --out "$OUT/images/$c.tar" --entrypoint "/usr/local/bin/$c"
done

d=$(stage kube-proxy)
cp -a "$slice/." "$d/"
cp "$ARTIFACT_KUBERNETES/bin/kube-proxy" "$d/usr/local/bin/"
mkimage --name "$reg/kube-proxy:$kube_version" --rootfs "$d" --out "$OUT/images/kube-proxy.tar" --entrypoint /usr/local/bin/kube-proxy

d=$(stage etcd)
cp "$ARTIFACT_ETCD/bin/etcd" "$ARTIFACT_ETCD/bin/etcdctl" "$d/usr/local/bin/"
mkdir -p "$d/var/lib/etcd"
mkimage --name "$reg/etcd:$(cat "$ARTIFACT_ETCD/VERSION")-0" --rootfs "$d" --out "$OUT/images/etcd.tar" --entrypoint /usr/local/bin/etcd

d=$(stage coredns)
cp "$ARTIFACT_COREDNS/bin/coredns" "$d/coredns"
mkimage --name "$reg/coredns/coredns:$(cat "$ARTIFACT_COREDNS/VERSION")" --rootfs "$d" --out "$OUT/images/coredns.tar" --entrypoint /coredns

d=$(stage pause)
cp "$ARTIFACT_PAUSE/bin/pause" "$d/pause"
# upstream's pause runs as 65535 too
mkimage --name "$reg/pause:$(cat "$ARTIFACT_PAUSE/VERSION")" --rootfs "$d" --out "$OUT/images/pause.tar" --entrypoint /pause --user 65535:65535

d=$(stage kindnetd)
cp -a "$slice/." "$d/"
cp "$ARTIFACT_KINDNETD/bin/kindnetd" "$d/usr/local/bin/"
kindnetd_image="svclab.local/kindnetd:$(cat "$ARTIFACT_KINDNETD/VERSION")"
mkimage --name "$kindnetd_image" --rootfs "$d" --out "$OUT/images/kindnetd.tar" --entrypoint /usr/local/bin/kindnetd

# every name kubeadm asks for must be among what we built
for t in "$OUT"/images/*.tar; do
  tar -xOf "$t" index.json | jq -r '.manifests[0].annotations["io.containerd.image.name"]'
done | LC_ALL=C sort > "$OUT/images.txt"
missing=$(LC_ALL=C comm -23 "$work/kubeadm-images.txt" "$OUT/images.txt")
if [[ -n $missing ]]; then
  echo "component-images: kubeadm asks for images we did not build:" >&2
  echo "$missing" >&2
  exit 1
fi
echo "$kindnetd_image" > "$OUT/kindnetd-image"
grep '/pause:' "$OUT/images.txt" > "$OUT/pause-image"
cat "$OUT/images.txt"
