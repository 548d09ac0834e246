#!/usr/bin/env bash
# Builds a Vault server (dev mode capable) from the Go module proxy into the per-user cache.
# Idempotent: a binary already in the cache is kept. Progress goes to stderr; the binary's path is the
# last line of stdout.
#
#   VAULT_VERSION  github.com/hashicorp/vault release (default v1.21.4)
#   VAULT_BIN      an existing vault binary: no build, its path is printed
#   SSC_CACHE_DIR  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/secrets-sync)
set -euo pipefail

VAULT_VERSION=${VAULT_VERSION:-v1.21.4}
CACHE=${SSC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secrets-sync}
OUT="$CACHE/bin/vault-$VAULT_VERSION"
WORK="$CACHE/build"
LOG="$WORK/build-vault.log"

say() { printf '[build-vault] %s\n' "$*" >&2; }
die() { printf '[build-vault] error: %s (log: %s)\n' "$*" "$LOG" >&2; exit 1; }

if [ -n "${VAULT_BIN:-}" ]; then
  [ -x "$VAULT_BIN" ] || die "VAULT_BIN=$VAULT_BIN is not an executable file"
  echo "$VAULT_BIN"; exit 0
fi

mkdir -p "$OUT" "$WORK"
: >>"$LOG"
if [ -x "$OUT/vault" ]; then echo "$OUT/vault"; exit 0; fi

command -v go >/dev/null 2>&1 || die "no Go toolchain on PATH: install Go >= 1.25, or set VAULT_BIN to an existing vault binary"
export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
start=$(date +%s)
run() { # run a step, logging its output; on failure show the tail
  local what=$1; shift
  say "$what"
  if ! "$@" >>"$LOG" 2>&1; then tail -n 20 "$LOG" >&2; die "$what failed"; fi
}

# Vault's go.mod replaces its own submodules (api, api/auth/*, sdk) with ./ paths, so
# `go install github.com/hashicorp/vault@vX` is refused. A wrapper module requires the vault module and
# repeats each of those replace lines, pointing at the published version that vault's go.mod requires;
# vault's other (non-local) replace lines are copied as they are.
M="$WORK/vault-$VAULT_VERSION"; mkdir -p "$M"; cd "$M"
[ -f go.mod ] || go mod init local.build/vaultbin >>"$LOG" 2>&1
run "resolving github.com/hashicorp/vault@$VAULT_VERSION" go mod download -json "github.com/hashicorp/vault@$VAULT_VERSION"
GOMOD=$(go mod download -json "github.com/hashicorp/vault@$VAULT_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
[ -f "$GOMOD" ] || die "could not find go.mod of github.com/hashicorp/vault@$VAULT_VERSION"
GOV=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$GOMOD" | head -n1)
go mod edit -go="${GOV:-1.25.0}"
n=0
while read -r mod; do
  ver=$(sed -n "s#^[[:space:]]*\(require \)\{0,1\}$mod \(v[^ ]*\).*#\2#p" "$GOMOD" | head -n1)
  [ -n "$ver" ] || die "vault's go.mod replaces $mod with a local path but requires no version of it"
  go mod edit -replace="$mod=$mod@$ver"; n=$((n+1))
done < <(sed -n 's#^\(replace \)\{0,1\}[[:space:]]*\(github\.com/hashicorp/vault/[^ ]*\) => \./.*#\2#p' "$GOMOD")
while read -r from to; do
  go mod edit -replace="$from=$to"
done < <(awk '{ sub(/^replace[ \t]+/, ""); sub(/^[ \t]+/, "") }
  $2 == "=>" && NF == 4 && $3 !~ /^\./ { print $1, $3 "@" $4 }
  $3 == "=>" && NF == 5 && $4 !~ /^\./ { print $1 "@" $2, $4 "@" $5 }' "$GOMOD")
say "pinned $n vault submodules to their published versions"
run "fetching module graph (many minutes on a cold cache)" go get "github.com/hashicorp/vault@$VAULT_VERSION"
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/hashicorp/vault"
GO
run "go mod tidy" go mod tidy
t0=$(date +%s)
run "building vault $VAULT_VERSION (the first build takes 15+ minutes on 2 cores)" \
  go build -ldflags "-s -w" -o "$OUT/vault.tmp" github.com/hashicorp/vault
mv "$OUT/vault.tmp" "$OUT/vault"
say "built vault in $(( $(date +%s) - t0 )) s ($(( $(date +%s) - start )) s in all), $(du -h "$OUT/vault" | cut -f1)"
echo "$OUT/vault"
