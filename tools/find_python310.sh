#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter, with or without pyenv; exits 1 when there is none.
set -u
is_310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }
candidates=()
[ -n "${PYTHON310:-}" ] && candidates+=("$PYTHON310")
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.|$)' | sort -V -r); do
    candidates+=("$root/versions/$v/bin/python3.10")
  done
fi
candidates+=(/usr/local/bin/python3.10 /usr/bin/python3.10 "$HOME"/.pyenv/versions/3.10*/bin/python3.10)
for c in "${candidates[@]}"; do
  [ -x "$c" ] || continue
  if is_310 "$c"; then
    # A pyenv shim resolves per directory; hand back the real interpreter behind it.
    "$c" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
echo "find_python310: no Python 3.10 found (tried: ${candidates[*]}); install python3.10 or set PYTHON310=/path/to/python3.10" >&2
exit 1
