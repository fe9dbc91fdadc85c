#!/usr/bin/env bash
# Make sure a docker CLI is installed and a docker daemon answers. Idempotent:
# when everything is already in place it only says so. Used by `npm start` and
# `.ci/run`.
#
#   bash scripts/ensure-docker.sh            install/start what is missing
#   bash scripts/ensure-docker.sh --verify   also build a tiny local image and
#                                            run it with --privileged
#
# Exit codes: 0 ready; 2 the user must run a command as root (printed);
# 1 something failed (the dockerd log path is printed).
#
# On hosts whose capability bounding set lacks CAP_SYS_RESOURCE (some
# sandboxes), `docker run --privileged` fails inside runc; there, and only
# there, dockerd is started with images/runtime/svclab-runc as its default
# runtime, which removes the capabilities the host can't grant.
set -euo pipefail
# dockerd, runc and apt-get live in sbin, which a non-root PATH may lack.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cache="${SVCLAB_CACHE:-$HOME/.cache/svclab}"
runtime_name="svclab-runc"
runtime_path="$cache/runtime/svclab-runc"
log="$cache/dockerd.log"
verify=0
for a in "$@"; do
  case "$a" in
    --verify) verify=1 ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "ensure-docker: unknown argument $a" >&2; exit 64 ;;
  esac
done

say() { echo "ensure-docker: $*"; }
is_root() { [[ "$(id -u)" == 0 ]]; }
as_root_cmd() {
  # The exact command a non-root user should run.
  if [[ -n "${SVCLAB_CACHE:-}" ]]; then
    echo "sudo env SVCLAB_CACHE=$SVCLAB_CACHE bash $repo/scripts/ensure-docker.sh"
  else
    echo "sudo bash $repo/scripts/ensure-docker.sh"
  fi
}

# True when the bounding set lacks CAP_SYS_RESOURCE (bit 24).
lacks_sys_resource() {
  local bnd
  bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status 2>/dev/null || true)
  [[ -n "$bnd" ]] && (( (16#$bnd >> 24 & 1) == 0 ))
}

# docker 20.10's CLI exits 0 with an empty ServerVersion when the daemon is down.
docker_answers() {
  local v
  v="$(timeout 15 docker info --format '{{.ServerVersion}}' 2>/dev/null)" && [[ -n "$v" ]]
}

# 1. The docker CLI (and, as root, the engine package with it).
if ! command -v docker >/dev/null 2>&1; then
  if is_root; then
    say "docker is not installed: apt-get update && apt-get install -y docker.io"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io
  else
    say "docker is not installed. Run as root:"
    echo "  sudo apt-get update && sudo apt-get install -y docker.io"
    exit 2
  fi
fi
cli="$(command -v docker)"
cli_version="$(docker --version 2>/dev/null || echo unknown)"
say "docker CLI: $cli ($cli_version)"

# 2. The runc wrapper, only where the host can't grant what --privileged asks.
need_wrapper=0
if lacks_sys_resource; then
  need_wrapper=1
  if ! command -v jq >/dev/null 2>&1; then
    if is_root; then
      say "jq is needed by the runc wrapper: apt-get install -y jq"
      apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y jq
    fi
  fi
  # Only root can start dockerd, so only root installs what dockerd will run.
  if is_root; then
    real_runc="$(PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin command -v runc || true)"
    mkdir -p "$cache/runtime"
    tmp="$runtime_path.tmp.$$"
    sed "s|@REAL_RUNC@|${real_runc}|" "$repo/images/runtime/svclab-runc" >"$tmp"
    chmod 0755 "$tmp"
    if ! cmp -s "$tmp" "$runtime_path" 2>/dev/null; then
      mv -f "$tmp" "$runtime_path"
      say "host lacks CAP_SYS_RESOURCE: installed runc wrapper $runtime_path (wraps ${real_runc:-runc})"
    else
      rm -f "$tmp"
    fi
  fi
fi

# 3. The daemon. As root, one ensure-docker at a time (npm start and CI may race),
# so only one of them starts dockerd.
if is_root; then
  mkdir -p "$cache"
  exec 9>"$cache/ensure-docker.lock"
  flock -w 120 9 || say "another ensure-docker holds $cache/ensure-docker.lock; going on"
fi
if docker_answers; then
  server="$(docker info --format '{{.ServerVersion}} runtime={{.DefaultRuntime}}' 2>/dev/null)"
  say "docker daemon answers (server $server)"
  if (( need_wrapper )) && ! docker info --format '{{.DefaultRuntime}}' 2>/dev/null | grep -qx "$runtime_name"; then
    say "WARNING: this host lacks CAP_SYS_RESOURCE and the running dockerd does not use $runtime_name;"
    say "  privileged containers (kind nodes) will fail. Stop that dockerd, then run: $(is_root && echo "bash $repo/scripts/ensure-docker.sh" || as_root_cmd)"
  fi
else
  err="$(timeout 15 docker info 2>&1 || true)"
  if ! is_root; then
    if grep -qi 'permission denied' <<<"$err"; then
      say "the docker daemon runs but you may not use it. Run, then log in again:"
      echo "  sudo usermod -aG docker $(id -un)"
    else
      say "the docker daemon is not running. Run as root:"
      echo "  $(as_root_cmd)"
    fi
    exit 2
  fi
  if ! command -v dockerd >/dev/null 2>&1 && [[ ! -x /usr/sbin/dockerd ]]; then
    say "dockerd is missing (only a docker CLI is installed): apt-get install -y docker.io"
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io
  fi
  dockerd_bin="$(command -v dockerd)"
  pid=""
  if [[ -f /var/run/docker.pid ]]; then pid="$(cat /var/run/docker.pid 2>/dev/null || true)"; fi
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    say "dockerd (pid $pid) is running but not answering yet; waiting for it"
  else
    args=()
    if (( need_wrapper )); then
      args+=(--add-runtime "$runtime_name=$runtime_path" --default-runtime "$runtime_name")
    fi
    mkdir -p "$cache"
    echo "=== $(date -u +%FT%TZ) $dockerd_bin ${args[*]}" >>"$log"
    # setsid + nohup: the daemon outlives the shell (and npm) that started it.
    # 9>&-: the daemon must not inherit (and hold forever) our lock.
    setsid nohup "$dockerd_bin" "${args[@]}" >>"$log" 2>&1 </dev/null 9>&- &
    pid=$!
    if (( need_wrapper )); then
      say "started $dockerd_bin (pid $pid) with default runtime $runtime_name (host lacks CAP_SYS_RESOURCE); log: $log"
    else
      say "started $dockerd_bin (pid $pid); log: $log"
    fi
  fi
  started=$SECONDS
  until docker_answers; do
    if (( SECONDS - started > 60 )); then
      say "dockerd did not answer within 60 s; last lines of $log:"
      tail -n 20 "$log" >&2 || true
      exit 1
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      say "dockerd exited; last lines of $log:"
      tail -n 20 "$log" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
  say "docker daemon answers after $((SECONDS - started)) s ($(docker info --format '{{.ServerVersion}} runtime={{.DefaultRuntime}}' 2>/dev/null))"
fi

# 3b. kind nodes each run a kubelet, containerd and systemd that all take inotify
# instances; the kernel default of 128 per user runs out at about three clusters
# ("inotify_init: too many open files"). Raise it when root; say how otherwise.
for kv in fs.inotify.max_user_instances=512 fs.inotify.max_user_watches=524288; do
  key=${kv%%=*}; want=${kv#*=}
  have=$(sysctl -n "$key" 2>/dev/null || echo 0)
  if (( have < want )); then
    if is_root && sysctl -qw "$kv" 2>/dev/null; then
      say "raised $key from $have to $want (kind clusters need inotify room)"
    else
      say "note: $key is $have; several kind clusters need $want: $(as_root_cmd sysctl -w "$kv")"
    fi
  fi
done

# 4. Optional proof: a privileged container from an image built here (nothing pulled).
if (( verify )); then
  ctx="$(mktemp -d)"
  trap 'rm -rf "$ctx"' EXIT
  # /bin/true and the libraries it links: enough for a FROM scratch image.
  for f in /bin/true $(ldd /bin/true 2>/dev/null | grep -o '/[^ ]*' || true); do
    mkdir -p "$ctx/rootfs$(dirname "$f")"
    cp -L "$f" "$ctx/rootfs$f"
  done
  printf 'FROM scratch\nCOPY rootfs/ /\nCMD ["/bin/true"]\n' >"$ctx/Dockerfile"
  t0=$SECONDS
  if ! out="$(docker build -q -t svclab/probe:local --label svclab.probe=1 "$ctx" 2>&1)"; then
    say "docker build of the probe image failed: $out"
    exit 1
  fi
  if out="$(docker run --rm --privileged --label svclab.probe=1 svclab/probe:local 2>&1)"; then
    say "verified: docker run --rm --privileged svclab/probe:local works ($((SECONDS - t0)) s)"
  else
    say "docker run --privileged failed: $out"
    exit 1
  fi
fi
