#!/usr/bin/env bash
# Regenerates proto/gen/ from proto/service.proto with buf and the local ts-proto plugin.
# Usage: proto/generate.sh [OUTPUT_BASE]   (default: the repository root, i.e. writes proto/gen/)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out_base="${1:-$root}"
cd "$root"

# The plugin's shebang is `#!/usr/bin/env node`: prefer the project's Node (node_modules/.bin) over the system one.
export PATH="$root/node_modules/.bin:$PATH"

if [[ "$out_base" == "$root" ]]; then
  rm -rf proto/gen
fi
buf generate proto --template proto/buf.gen.yaml --output "$out_base"
