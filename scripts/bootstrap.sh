#!/usr/bin/env bash
# Sets up a fresh machine for this repository: checks Node, installs the pinned pnpm, installs the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1

need_pnpm=$(node -p "require('./package.json').packageManager.split('@')[1]")
node_major=$(node -p "process.versions.node.split('.')[0]")
if [ "$node_major" -lt 20 ]; then
  echo "bootstrap: Node >= 20 is required, found $(node --version)" >&2
  exit 1
fi
if [ "$(pnpm --version 2>/dev/null || true)" != "$need_pnpm" ]; then
  echo "bootstrap: installing pnpm $need_pnpm"
  npm install --global --no-audit --no-fund --loglevel=error "pnpm@$need_pnpm"
fi
pnpm install --frozen-lockfile
