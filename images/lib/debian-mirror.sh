# Sourced by recipes that run debootstrap. Prints the Debian mirror that apt on
# this machine already uses, so svclab reaches exactly what the machine's own
# package manager reaches and names no mirror of its own. SVCLAB_DEBIAN_MIRROR
# overrides it.
debian_mirror() {
  if [[ -n "${SVCLAB_DEBIAN_MIRROR:-}" ]]; then
    echo "$SVCLAB_DEBIAN_MIRROR"
    return
  fi
  local m
  m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}')
  if [[ -z "$m" ]]; then
    m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/ && $i !~ /security/) { print $i; exit } }')
  fi
  if [[ -z "$m" ]]; then
    echo "debian_mirror: apt has no Debian source in /etc/apt/sources.list*; set SVCLAB_DEBIAN_MIRROR to a bookworm mirror" >&2
    return 1
  fi
  echo "$m"
}
