#!/usr/bin/env bash
# Fails when proto/gen/ differs from what proto/generate.sh produces (stale or hand-edited generated code).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$root/proto/generate.sh" "$tmp"

if ! diff -ru "$tmp/proto/gen" "$root/proto/gen"; then
  echo "proto/gen is out of date: run 'npm run proto:gen' and commit the result." >&2
  exit 1
fi
echo "proto/gen is up to date."
