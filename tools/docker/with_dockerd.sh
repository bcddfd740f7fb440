#!/usr/bin/env bash
# Runs a command with a Docker engine answering at $DOCKER_HOST.
#
#   tools/docker/with_dockerd.sh COMMAND [ARGS...]
#
# When an engine already answers (DOCKER_HOST, or the default socket), COMMAND runs against it
# and nothing is started. Otherwise this starts its own `dockerd` (Debian's docker.io, as root):
# listening only on a UNIX socket in a fresh temporary folder, with its image store in
# DOCKER_DATA_ROOT (default ~/.cache/lsgan-tfx/docker, so that a second build on this machine
# reuses its layers), no bridge network and no iptables rules (containers use --network=host or
# none: nothing of the host's network set-up is touched). It is stopped by its pid when COMMAND
# ends, whatever its exit status, and the temporary folder is removed. A daemon that cannot start
# is one line naming its log, exit 1.
set -uo pipefail
[ $# -gt 0 ] || { echo "usage: with_dockerd.sh COMMAND [ARGS...]" >&2; exit 2; }
docker=${DOCKER:-docker}
fail() { echo "with-dockerd: $*" >&2; exit 1; }

if "$docker" info >/dev/null 2>&1; then
  exec "$@"
fi
command -v dockerd >/dev/null || fail "no Docker engine answers and dockerd is missing (make docker-install, or apt-get install docker.io)"
[ "$(id -u)" = 0 ] || fail "no Docker engine answers, and starting dockerd needs root"

data_root=${DOCKER_DATA_ROOT:-$HOME/.cache/lsgan-tfx/docker}
mkdir -p "$data_root"
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/lsgan-dockerd.XXXXXX")
export DOCKER_HOST=unix://$run_dir/docker.sock
pid=
stop() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    wait "$pid" 2>/dev/null
  fi
  # What dockerd mounted under its exec root and left (its default network namespace).
  awk -v dir="$run_dir/" 'index($2, dir) == 1 {print $2}' /proc/mounts | sort -r \
    | while read -r mount; do umount "$mount" 2>/dev/null || umount -l "$mount"; done
  rm -rf "$run_dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

dockerd --host "$DOCKER_HOST" --data-root "$data_root" --exec-root "$run_dir/exec" \
  --pidfile "$run_dir/dockerd.pid" --bridge=none --iptables=false --ip6tables=false \
  > "$run_dir/dockerd.log" 2>&1 &
pid=$!
for _ in $(seq 1 60); do
  "$docker" info >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
if ! "$docker" info >/dev/null 2>&1; then
  log=$(mktemp "${TMPDIR:-/tmp}/lsgan-dockerd-log.XXXXXX")
  cp "$run_dir/dockerd.log" "$log"
  fail "dockerd did not start within 30 s (its last line: $(tail -1 "$log"); whole log: $log)"
fi
echo "with-dockerd: started dockerd (pid $pid, $DOCKER_HOST, data root $data_root)"
"$@"  # its exit status is the script's (the EXIT trap keeps it)
