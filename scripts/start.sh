#!/usr/bin/env bash
# `npm start`: install what is missing, build missing images, start the runner
# (which serves the site) and print the URL with its token.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_npm_deps
# Install what `svclab doctor` finds missing and fixable (docker.io, dockerd, debootstrap…)
# as root; a normal user is shown the exact command instead.
svclab doctor --fix --for start || echo "! not everything is in place (see above): the site runs; Start lab needs docker and built images."
if docker_up; then
  svclab images build
  # The learner's cluster: made once, reused by later starts (`svclab down` removes it).
  if ! svclab status 2>/dev/null | grep -q '^svclab-main  running'; then
    svclab down --name main >/dev/null 2>&1 || true
    svclab up --name main || echo "! the cluster could not be created (see above): the site and terminal run, cluster steps will wait for \`svclab up\`."
  fi
fi
if [ ! -f "$ROOT/dist/index.html" ] || [ -n "$(find "$ROOT/site" "$ROOT/labs" "$ROOT/astro.config.mjs" -newer "$ROOT/dist/index.html" -print -quit 2>/dev/null)" ]; then
  echo "• building the site (astro build)…"
  (cd "$ROOT" && astro build --silent)
fi
exec node "$ROOT/bin/svclab.mjs" start "$@"
