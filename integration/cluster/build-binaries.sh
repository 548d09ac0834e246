#!/usr/bin/env bash
# Builds the local control plane's binaries (kube-apiserver, kube-controller-manager, etcd) from the Go
# module proxy into a per-user cache keyed by version. Idempotent: a binary already in the cache is kept.
#
#   KUBE_VERSION   Kubernetes release (default v1.37.2)
#   ETCD_VERSION   etcd release (default v3.6.16)
#   SSC_CACHE_DIR  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/secrets-sync)
#
# Prints the directory holding the binaries as the last line of stdout. Progress goes to stderr.
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
CACHE=${SSC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secrets-sync}
OUT="$CACHE/bin/kube-$KUBE_VERSION-etcd-$ETCD_VERSION"
WORK="$CACHE/build"
LOG="$CACHE/build/build.log"

say() { printf '[build-binaries] %s\n' "$*" >&2; }
die() { printf '[build-binaries] error: %s (log: %s)\n' "$*" "$LOG" >&2; exit 1; }

mkdir -p "$OUT" "$WORK"
: >>"$LOG"

if [ -x "$OUT/kube-apiserver" ] && [ -x "$OUT/kube-controller-manager" ] && [ -x "$OUT/etcd" ]; then
  echo "$OUT"; exit 0
fi

command -v go >/dev/null 2>&1 || die "no Go toolchain on PATH: install Go >= 1.26, or set KUBE_APISERVER_BIN, KUBE_CONTROLLER_MANAGER_BIN and ETCD_BIN to existing binaries"

export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
start=$(date +%s)
run() { # run a step, logging its output; on failure show the tail
  local what=$1; shift
  say "$what"
  if ! "$@" >>"$LOG" 2>&1; then tail -n 20 "$LOG" >&2; die "$what failed"; fi
}

# --- kube-apiserver + kube-controller-manager -------------------------------------------------------
if [ ! -x "$OUT/kube-apiserver" ] || [ ! -x "$OUT/kube-controller-manager" ]; then
  STAGING="v0.${KUBE_VERSION#v1.}"
  M="$WORK/k8s-$KUBE_VERSION"; mkdir -p "$M"; cd "$M"
  if [ ! -f go.mod ]; then
    go mod init local.build/k8sbin >>"$LOG" 2>&1
  fi
  run "resolving k8s.io/kubernetes@$KUBE_VERSION" go mod download -json "k8s.io/kubernetes@$KUBE_VERSION"
  GOMOD=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [ -f "$GOMOD" ] || die "could not find go.mod of k8s.io/kubernetes@$KUBE_VERSION"
  GOV=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$GOMOD" | head -n1)
  go mod edit -go="${GOV:-1.26.0}"
  n=0
  for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "$GOMOD"); do
    go mod edit -replace="$m=$m@$STAGING"; n=$((n+1))
  done
  say "pinned $n staging modules to $STAGING"
  run "fetching module graph (minutes on a cold cache)" go get "k8s.io/kubernetes@$KUBE_VERSION"
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
GO
  run "go mod tidy" go mod tidy
  MINOR=${KUBE_VERSION#v1.}; MINOR=${MINOR%%.*}
  LDF="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    LDF+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$MINOR -X $p.gitTreeState=clean"
  done
  for b in kube-apiserver kube-controller-manager; do
    if [ ! -x "$OUT/$b" ]; then
      t0=$(date +%s)
      run "building $b $KUBE_VERSION (the first build takes 10+ minutes on 2 cores)" \
        go build -ldflags "$LDF" -o "$OUT/$b.tmp" "k8s.io/kubernetes/cmd/$b"
      mv "$OUT/$b.tmp" "$OUT/$b"
      say "built $b in $(( $(date +%s) - t0 )) s"
    fi
  done
fi

# --- etcd ------------------------------------------------------------------------------------------
if [ ! -x "$OUT/etcd" ]; then
  E="$WORK/etcd-$ETCD_VERSION"; mkdir -p "$E"; cd "$E"
  [ -f go.mod ] || go mod init local.build/etcdbin >>"$LOG" 2>&1
  run "fetching go.etcd.io/etcd/server/v3@$ETCD_VERSION" go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  cat > tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  run "go mod tidy (etcd)" go mod tidy
  t0=$(date +%s)
  run "building etcd $ETCD_VERSION" go build -ldflags "-s -w" -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$OUT/etcd.tmp" "$OUT/etcd"
  say "built etcd in $(( $(date +%s) - t0 )) s"
fi

say "all binaries ready in $(( $(date +%s) - start )) s: $OUT"
echo "$OUT"
