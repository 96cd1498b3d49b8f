#!/bin/sh
# The anchor of `npm run bench`: what operators run without flanctl. List the subnet keys, then
# for each key read it with its lease id and ask that lease's remaining TTL, one etcdctl
# process per request. Usage: etcdctl-loop.sh ENDPOINT PREFIX (the bench passes its own etcd).
set -eu

endpoint=$1
dir="$2/subnets/"

etcdctl --endpoints="$endpoint" get --prefix --keys-only "$dir" | while read -r key; do
  # etcdctl separates keys by blank lines.
  [ -n "$key" ] || continue

  # etcdctl -w json leaves "lease" out for a key without one (a reservation).
  lease=$(etcdctl --endpoints="$endpoint" get -w json "$key" |
    sed -n 's/.*"lease":\([0-9][0-9]*\).*/\1/p')
  if [ -n "$lease" ]; then
    etcdctl --endpoints="$endpoint" lease timetolive "$(printf '%x' "$lease")"
  fi
done
