#!/usr/bin/env bash
# `npm test`: type-check, lab lint, unit and contract tests, browser tests.
# Tiers whose prerequisites are missing print one SKIP line with the reason.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
ensure_npm_deps || exit 1
cd "$ROOT"
# What the tests need and root can install (docker, dockerd, chromium, a CJK font for
# screenshots); anything still missing makes its tier print a SKIP line below.
printf '\n== prerequisites (svclab doctor --fix --for test)\n'
svclab doctor --fix --for test || echo "note: some prerequisites are missing (above); their tiers will SKIP."
fail=0
step() { printf '\n== %s\n' "$1"; }

step "type-check (astro sync + tsc --noEmit)"
astro sync >/dev/null && tsc --noEmit -p . || fail=1
# lab.yaml's JSON Schema is generated from the zod schema: the committed file must be current.
node "$ROOT/scripts/gen-lab-schema.ts" --check || fail=1

step "labs lint"
svclab labs lint || fail=1

if docker_up; then
  step "images (build what is missing; a no-op when current)"
  svclab images build workstation || fail=1
else
  echo "SKIP images: docker is not running here (run scripts/ensure-docker.sh as root)"
fi

step "site build (astro build)"
astro build --silent || fail=1

step "unit, contract and browser tests (vitest)"
report="$ROOT/test-results/vitest.json"
mkdir -p "$ROOT/test-results"
SVCLAB_TEST_CREATE_CLUSTER=1 vitest run --reporter=default --reporter=json --outputFile.json="$report" || fail=1
node "$ROOT/scripts/test-summary.ts" "$report" || fail=1
exit $fail
