#!/usr/bin/env bash
# Builds Helm (helm.sh/helm/v4/cmd/helm) from the Go module proxy into the per-user cache, keyed by version.
# Idempotent: a binary already in the cache is kept. Helm's go.mod has no replace directives, so a plain
# `go install pkg@version` works; the version is stamped the way Helm's Makefile does it, so `helm version`
# reports the real release.
#
#   HELM_VERSION   Helm release (default v4.3.2)
#   HELM_BIN       an existing helm binary: skip the build and print this path
#   SSC_CACHE_DIR  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/secrets-sync)
#
# Prints the path of the helm binary as the last line of stdout. Progress goes to stderr.
set -euo pipefail

HELM_VERSION=${HELM_VERSION:-v4.3.2}
CACHE=${SSC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secrets-sync}
OUT="$CACHE/bin/helm-$HELM_VERSION"
LOG="$CACHE/build/build-helm.log"

say() { printf '[build-helm] %s\n' "$*" >&2; }
die() { printf '[build-helm] error: %s (log: %s)\n' "$*" "$LOG" >&2; exit 1; }

if [ -n "${HELM_BIN:-}" ]; then
  [ -x "$HELM_BIN" ] || { printf '[build-helm] error: HELM_BIN=%s is not an executable file\n' "$HELM_BIN" >&2; exit 1; }
  echo "$HELM_BIN"; exit 0
fi

if [ -x "$OUT/helm" ]; then
  echo "$OUT/helm"; exit 0
fi

mkdir -p "$OUT" "$(dirname "$LOG")"
: >>"$LOG"
command -v go >/dev/null 2>&1 || die "no Go toolchain on PATH: install Go >= 1.26, or set HELM_BIN to an existing helm v4 binary"

# A lock so that two test runs (or a test and a person) do not build into the same directory at once.
exec 9>"$OUT/.lock"
if command -v flock >/dev/null 2>&1; then
  flock -n 9 || { say "another build of helm $HELM_VERSION is running; waiting for it"; flock 9; }
fi
if [ -x "$OUT/helm" ]; then
  echo "$OUT/helm"; exit 0
fi

export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
TMP=$(mktemp -d "$OUT/.build.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
LDF="-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION -X helm.sh/helm/v4/internal/version.metadata= -X helm.sh/helm/v4/internal/version.gitTreeState=clean"

start=$(date +%s)
say "building helm $HELM_VERSION from the Go module proxy into $OUT (the first build takes minutes on 2 cores)"
# `go install` from outside any module: no go.mod of ours is involved. A heartbeat on stderr every 30 s.
(cd "$TMP" && GOBIN="$TMP" exec go install -v -ldflags "$LDF" "helm.sh/helm/v4/cmd/helm@$HELM_VERSION") >>"$LOG" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  if kill -0 "$pid" 2>/dev/null; then say "still building helm ($(( $(date +%s) - start )) s, $(grep -c . "$LOG") log lines)"; fi
done
if ! wait "$pid"; then
  tail -n 20 "$LOG" >&2
  die "go install helm.sh/helm/v4/cmd/helm@$HELM_VERSION failed"
fi
[ -x "$TMP/helm" ] || die "go install finished but produced no helm binary"
"$TMP/helm" version --short >>"$LOG" 2>&1 || die "the built helm does not run"
mv "$TMP/helm" "$OUT/helm"
say "built helm $HELM_VERSION in $(( $(date +%s) - start )) s: $OUT/helm"
echo "$OUT/helm"
