#!/usr/bin/env bash
# Builds the interop test's Go binaries from the Go module proxy into the per-user cache, keyed by version:
#   vault               a Vault server (dev mode capable), github.com/hashicorp/vault
#   vault-csi-provider  github.com/hashicorp/vault-csi-provider
# Idempotent: a binary already in the cache is kept. Progress goes to stderr; stdout gets one line per
# binary, `<name> <absolute path>`, the last line being the last binary asked for.
#
#   build-vault.sh [--cached] [vault|provider|all]     (default all)
#
# --cached builds nothing: it prints what is already there (env or cache) and fails for what is not.
#
#   VAULT_VERSION               default v1.21.4
#   VAULT_CSI_PROVIDER_VERSION  default v1.7.4
#   VAULT_BIN                   an existing vault binary: no build, its path is printed
#   VAULT_CSI_PROVIDER_BIN      an existing vault-csi-provider binary: no build, its path is printed
#   SSC_CACHE_DIR               cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/secrets-sync)
set -euo pipefail

CACHED_ONLY=0
if [ "${1:-}" = "--cached" ]; then CACHED_ONLY=1; shift; fi
WHAT=${1:-all}
case "$WHAT" in vault|provider|all) ;; *) printf '[build-vault] error: unknown target %s (vault, provider or all)\n' "$WHAT" >&2; exit 2;; esac

VAULT_VERSION=${VAULT_VERSION:-v1.21.4}
PROVIDER_VERSION=${VAULT_CSI_PROVIDER_VERSION:-v1.7.4}
CACHE=${SSC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secrets-sync}
WORK="$CACHE/build"
LOG="$WORK/build-vault.log"

say() { printf '[build-vault] %s\n' "$*" >&2; }
die() { printf '[build-vault] error: %s (log: %s)\n' "$*" "$LOG" >&2; exit 1; }

mkdir -p "$WORK"
: >>"$LOG"

need_go() {
  command -v go >/dev/null 2>&1 || die "no Go toolchain on PATH: install Go >= 1.25, or set $1 to an existing binary"
  export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
}
run() { # run a step, logging its output; on failure show the tail
  local what=$1; shift
  say "$what"
  if ! "$@" >>"$LOG" 2>&1; then tail -n 20 "$LOG" >&2; die "$what failed"; fi
}
# `go mod download` of one module version; a refusal by the module proxy becomes a one-line error.
fetch_module() { # <module@version> <env var that skips the build>
  local out
  if out=$(go mod download -json "$1" 2>&1); then printf '%s\n' "$out"; return 0; fi
  printf '%s\n' "$out" >>"$LOG"
  if grep -q '403 Forbidden\|not available\|410 Gone' <<<"$out"; then
    local why; why=$(grep -o '[0-9][0-9][0-9] [A-Z][a-z]*\|server response: [^"]*' <<<"$out" | sed 's/^server response: //' | sort -u | paste -sd' ' || true)
    die "the Go module proxy refuses $1 (${why:-refused}), so it cannot be built here; set $2 to a binary built elsewhere"
  fi
  die "could not download $1: $(grep -m1 -i 'error\|go: ' <<<"$out" || echo "$out" | tail -n1)"
}

# Replaces one exact line fragment in a file; a fragment that is not there (another Vault version) is reported
# and left alone, so the compiler says what else differs.
adapt() { # <file> <from> <to>
  if [ -f "$1" ] && grep -qF -- "$2" "$1"; then
    FROM=$2 TO=$3 perl -pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/g' "$1"
    say "adapted ${1#*/vault-src/} to the published sdk"
  else
    say "note: ${1#*/vault-src/} has no '$2' (another Vault version?): not adapted"
  fi
}

build_vault() {
  if [ -n "${VAULT_BIN:-}" ]; then
    [ -x "$VAULT_BIN" ] || die "VAULT_BIN=$VAULT_BIN is not an executable file"
    echo "vault $VAULT_BIN"; return
  fi
  local out="$CACHE/bin/vault-$VAULT_VERSION"
  if [ -x "$out/vault" ]; then echo "vault $out/vault"; return; fi
  [ "$CACHED_ONLY" = 0 ] || die "vault $VAULT_VERSION is not built yet (run: bash integration/interop/build-vault.sh vault)"
  need_go VAULT_BIN
  mkdir -p "$out"
  local start t0; start=$(date +%s)
  # Vault's go.mod replaces its own submodules (api, api/auth/*, sdk) with ./ paths, so
  # `go install github.com/hashicorp/vault@vX` is refused. A wrapper module requires the vault module and
  # repeats each of those replace lines, pointing at the published version that vault's go.mod requires;
  # vault's other (non-local) replace lines are copied as they are.
  local m="$WORK/vault-$VAULT_VERSION"; mkdir -p "$m"; cd "$m"
  [ -f go.mod ] || go mod init local.build/vaultbin >>"$LOG" 2>&1
  say "resolving github.com/hashicorp/vault@$VAULT_VERSION"
  local gomod
  gomod=$(fetch_module "github.com/hashicorp/vault@$VAULT_VERSION" VAULT_BIN | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [ -f "$gomod" ] || die "could not find go.mod of github.com/hashicorp/vault@$VAULT_VERSION"
  local gov; gov=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod" | head -n1)
  go mod edit -go="${gov:-1.25.0}"
  local n=0 mod ver from to
  while read -r mod; do
    ver=$(sed -n "s#^[[:space:]]*\(require \)\{0,1\}$mod \(v[^ ]*\).*#\2#p" "$gomod" | head -n1)
    [ -n "$ver" ] || die "vault's go.mod replaces $mod with a local path but requires no version of it"
    go mod edit -replace="$mod=$mod@$ver"; n=$((n+1))
  done < <(sed -n 's#^\(replace \)\{0,1\}[[:space:]]*\(github\.com/hashicorp/vault/[^ ]*\) => \./.*#\2#p' "$gomod")
  while read -r from to; do
    go mod edit -replace="$from=$to"
  done < <(awk '{ sub(/^replace[ \t]+/, ""); sub(/^[ \t]+/, "") }
    $2 == "=>" && NF == 4 && $3 !~ /^\./ { print $1, $3 "@" $4 }
    $3 == "=>" && NF == 5 && $4 !~ /^\./ { print $1 "@" $2, $4 "@" $5 }' "$gomod")
  say "pinned $n vault submodules to their published versions"
  # A Vault release is built from its release branch with that branch's own ./sdk, which is never published: the
  # published sdk that vault's go.mod names differs from it in a few signatures (v1.21.4 against sdk v0.21.0:
  # framework.Backend.ActivationFunc takes a third argument, keysutil.LockManager.RestorePolicy returns only
  # an error). The wrapper therefore builds a copy of the vault module, with its call sites adapted to the
  # published sdk (semantics kept), put in place by a replace line.
  local moddir src="$m/vault-src"
  moddir=$(go mod download -json "github.com/hashicorp/vault@$VAULT_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$moddir" ] || die "could not find the source of github.com/hashicorp/vault@$VAULT_VERSION in the module cache"
  if [ ! -f "$src/.adapted" ]; then
    rm -rf "$src"; cp -r "$moddir" "$src"; chmod -R u+w "$src"
    adapt "$src/vault/identity_store.go" \
      'ActivationFunc: iStore.activateDeduplication,' \
      'ActivationFunc: func(ctx context.Context, req *logical.Request, _ string) error { return iStore.activateDeduplication(ctx, req) },'
    adapt "$src/vault/logical_system_activation_flags.go" \
      'b.idStoreBackend.ActivationFunc(ctx, nil)' \
      'b.idStoreBackend.ActivationFunc(ctx, nil, "")'
    adapt "$src/builtin/logical/transit/path_restore.go" \
      'restoredKeyName, err := b.lm.RestorePolicy(ctx, req.Storage, keyName, backupB64, force)' \
      'restoredKeyName, err := keyName, b.lm.RestorePolicy(ctx, req.Storage, keyName, backupB64, force)'
    touch "$src/.adapted"
  fi
  go mod edit -replace="github.com/hashicorp/vault=./vault-src"
  run "fetching vault's module graph (many minutes on a cold cache)" go get "github.com/hashicorp/vault@$VAULT_VERSION"
  cat > tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/hashicorp/vault"
GO
  run "go mod tidy (vault)" go mod tidy
  t0=$(date +%s)
  run "building vault $VAULT_VERSION (the first build takes 20+ minutes on 2 cores)" \
    go build -ldflags "-s -w" -o "$out/vault.tmp" github.com/hashicorp/vault
  mv "$out/vault.tmp" "$out/vault"
  say "built vault in $(( $(date +%s) - t0 )) s ($(( $(date +%s) - start )) s with downloads), $(du -h "$out/vault" | cut -f1)"
  echo "vault $out/vault"
}

build_provider() {
  if [ -n "${VAULT_CSI_PROVIDER_BIN:-}" ]; then
    [ -x "$VAULT_CSI_PROVIDER_BIN" ] || die "VAULT_CSI_PROVIDER_BIN=$VAULT_CSI_PROVIDER_BIN is not an executable file"
    echo "vault-csi-provider $VAULT_CSI_PROVIDER_BIN"; return
  fi
  local out="$CACHE/bin/vault-csi-provider-$PROVIDER_VERSION"
  if [ -x "$out/vault-csi-provider" ]; then echo "vault-csi-provider $out/vault-csi-provider"; return; fi
  [ "$CACHED_ONLY" = 0 ] || die "vault-csi-provider $PROVIDER_VERSION is not built yet (run: bash integration/interop/build-vault.sh provider)"
  need_go VAULT_CSI_PROVIDER_BIN
  mkdir -p "$out"
  local t0; t0=$(date +%s)
  # vault-csi-provider's go.mod has no replace directives, so `go install module@version` would do; it is
  # built in a wrapper module anyway, like the other binaries, so that a cold cache is fetched only once.
  say "resolving github.com/hashicorp/vault-csi-provider@$PROVIDER_VERSION"
  fetch_module "github.com/hashicorp/vault-csi-provider@$PROVIDER_VERSION" VAULT_CSI_PROVIDER_BIN >/dev/null
  run "building vault-csi-provider $PROVIDER_VERSION" \
    env GOBIN="$out" go install -ldflags "-s -w -X github.com/hashicorp/vault-csi-provider/internal/version.BuildVersion=$PROVIDER_VERSION" \
    "github.com/hashicorp/vault-csi-provider@$PROVIDER_VERSION"
  say "built vault-csi-provider in $(( $(date +%s) - t0 )) s, $(du -h "$out/vault-csi-provider" | cut -f1)"
  echo "vault-csi-provider $out/vault-csi-provider"
}

case "$WHAT" in
  vault) build_vault ;;
  provider) build_provider ;;
  all) build_vault; build_provider ;;
esac
