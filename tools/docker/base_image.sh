#!/usr/bin/env bash
# Makes the base image the Dockerfile builds on (its PYTHON_IMAGE build argument) without a
# container registry: a Debian bookworm root file system from Debian's packages (debootstrap,
# the same glibc 2.36 as the machines requirements.lock was made on) plus the Python 3.10 that
# tools/find_python310.sh finds here, copied to /usr/local as the official python:3.10 images
# have it, then `docker import`. Used by `make base-image`; `make image` calls it when the
# default base (python:3.10-slim-bookworm) cannot be pulled.
#
#   tools/docker/base_image.sh TAG        e.g. lsgan-tfx-base:3.10-bookworm
# Environment: DOCKER (the client, default docker; DOCKER_HOST says which engine), DEBIAN_MIRROR (default deb.debian.org).
# The interpreter must be a self-contained prefix (pyenv's, or a source build in /usr/local):
# its bin/, lib/ and include/ are copied whole.
set -euo pipefail
tag=${1:?usage: base_image.sh TAG}
docker=${DOCKER:-docker}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
here=$(cd "$(dirname "$0")" && pwd)

say() { echo "base-image: $*"; }
fail() { echo "base-image: $*" >&2; exit 1; }

command -v debootstrap >/dev/null || fail "debootstrap is missing (apt-get install debootstrap)"
[ "$(id -u)" = 0 ] || fail "debootstrap needs root"
python=$("$here/../find_python310.sh") || exit 1
prefix=$("$python" -c 'import sys; print(sys.base_prefix)')
[ -f "$prefix/include/python3.10/Python.h" ] && [ -d "$prefix/lib/python3.10" ] \
  || fail "$python is not a self-contained prefix ($prefix has no include/python3.10 or lib/python3.10); set PYTHON310 to a pyenv or source-built 3.10"

work=$(mktemp -d "${TMPDIR:-/tmp}/lsgan-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
# What Python's own extension modules link against (ssl, ctypes, sqlite3, bz2, lzma,
# readline, curses, uuid, expat, zlib, dbm), and certificates for pip and uv.
packages=ca-certificates,libssl3,libffi8,zlib1g,libsqlite3-0,libbz2-1.0,liblzma5,libreadline8
packages+=,libncursesw6,libuuid1,libexpat1,libgdbm6,libgdbm-compat4,netbase,tzdata
say "debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" \
  > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap failed"; }

say "adding Python $("$python" -c 'import platform; print(platform.python_version())') from $prefix"
# Everything but the interpreter's own tests, IDLE and Tk demos, caches and pyenv's scripts
# whose first line names the old prefix (pip is reinstalled below as `python -m pip`).
tar -C "$prefix" --exclude='lib/python3.10/test' --exclude='lib/python3.10/idlelib' \
    --exclude='lib/python3.10/tkinter' --exclude='__pycache__' \
    -cf - lib include | tar -C "$rootfs/usr/local" -xf -
cp -a "$prefix/bin/python3.10" "$rootfs/usr/local/bin/"
for name in python3 python; do ln -sf python3.10 "$rootfs/usr/local/bin/$name"; done
rm -rf "$rootfs"/usr/local/lib/python3.10/site-packages/{pip,pip-*,setuptools,setuptools-*}
chroot "$rootfs" /sbin/ldconfig
chroot "$rootfs" /usr/local/bin/python3.10 -m ensurepip --default-pip > "$work/ensurepip.log" 2>&1 \
  || { tail -20 "$work/ensurepip.log" >&2; fail "ensurepip failed"; }
chroot "$rootfs" /usr/local/bin/python3.10 -c 'import ssl, sqlite3, ctypes, lzma, bz2, zlib'
# This machine's own certificate authorities (Debian keeps local ones in
# /usr/local/share/ca-certificates): behind a TLS-inspecting proxy, pip, uv and apt inside the
# build reach PyPI and Debian only with them. pip and uv are told to use the system store.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
  chroot "$rootfs" /usr/sbin/update-ca-certificates >/dev/null 2>&1
fi
# Leave nothing of this machine's apt state in the image.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

say "docker import as $tag"
tar -C "$rootfs" -c . | "$docker" import \
  --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["python3"]' - "$tag" >/dev/null
say "done: $tag ($("$docker" image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
