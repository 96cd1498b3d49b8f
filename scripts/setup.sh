#!/bin/sh
# Installs what `npm test`, `npm run demo` and `npm run bench` need on a fresh Debian machine
# with Node 20: the npm dependencies, and etcd 3.4 and GNU time from Debian when they are
# missing and we run as root.
set -eu
cd "$(dirname "$0")/.."

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node $(node --version) found; flanctl needs Node 20 or newer" >&2
  exit 1
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

if ! command -v etcd >/dev/null 2>&1 || ! command -v etcdctl >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing etcd from Debian (apt-get install -y etcd-server etcd-client)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq etcd-server etcd-client >&2
  else
    echo "setup: etcd is missing; install it with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y etcd-server etcd-client" >&2
    exit 1
  fi
fi

# `npm run bench` (and its smoke test in `npm test`) reads CPU time and peak RSS from GNU time.
if [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing GNU time (apt-get install -y time)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq time >&2
  else
    echo "setup: GNU time (/usr/bin/time) is missing; install it with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y time" >&2
    exit 1
  fi
fi
