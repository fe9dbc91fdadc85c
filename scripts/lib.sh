# Shared by start.sh, test.sh and .ci/run: make sure the project's own npm
# dependencies (which bring Node 24) are installed and current.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export SVCLAB_ROOT="$ROOT"

ensure_npm_deps() {
  local marker="$ROOT/node_modules/.package-lock.json"
  if [ ! -x "$ROOT/node_modules/.bin/node" ] || [ ! -f "$marker" ] || [ "$ROOT/package-lock.json" -nt "$marker" ]; then
    echo "• installing npm dependencies (npm ci)…"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) || { echo "npm ci failed; see the output above." >&2; return 1; }
  fi
  export PATH="$ROOT/node_modules/.bin:$PATH"
  local v; v=$(node --version)
  case "$v" in v2[4-9]*|v[3-9][0-9]*) ;; *) echo "svclab needs Node 24 but node_modules/.bin/node is $v" >&2; return 1 ;; esac
}

# The project's own CLI (npm links a package's bin for its dependents, not for itself).
svclab() {
  node "$ROOT/bin/svclab.mjs" "$@"
}

docker_up() {
  command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1
}
