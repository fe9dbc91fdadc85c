#!/usr/bin/env bash
# Builds svclab/web: one static Go binary in an image FROM scratch.
set -euo pipefail
cd "$RECIPE_DIR"
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags='-s -w' -o "$OUT/web" .
cat > "$OUT/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY web /web
EXPOSE 80
USER 0
ENTRYPOINT ["/web"]
DOCKERFILE
