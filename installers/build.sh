#!/usr/bin/env bash
# Build the Sanctum desktop bundle for Linux (x86_64) from the project's virtual environment.
#
#   installers/build.sh            build dist/Sanctum/ and dist/Sanctum-<version>-linux-x86_64.tar.gz
#   installers/build.sh --no-tar   the folder only
#   installers/build.sh --repack   skip PyInstaller: re-check and re-pack an existing dist/Sanctum/
#
# The venv must be set up (installers/setup.sh install: it assembles and checks the default chat
# model) and have the build tools: pip install -c installers/constraints.txt -e ".[installer]".
# Takes several minutes (PyInstaller analyses torch and transformers). Outputs go under the
# git-ignored build/ (PyInstaller's work folder) and dist/.
# Environment: SANCTUM_VENV (default .venv in the checkout), SANCTUM_DIST (default dist/).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
venv=${SANCTUM_VENV:-$root/.venv}
dist=${SANCTUM_DIST:-$root/dist}
work=$root/build/pyinstaller
tar=1 freeze=1
case "${1:-}" in
  --no-tar) tar=0 ;;
  --repack) freeze=0 ;;
  "") ;;
  *) echo "usage: installers/build.sh [--no-tar|--repack]" >&2; exit 2 ;;
esac
say() { printf '\033[1mbuild:\033[0m %s\n' "$*" >&2; }

py="$venv/bin/python"
[ -x "$py" ] || { echo "build: no virtual environment at $venv (run installers/setup.sh install)" >&2; exit 1; }
"$py" -c 'import PyInstaller' 2>/dev/null || {
  echo "build: PyInstaller is missing; run: $py -m pip install -c installers/constraints.txt -e '.[installer]'" >&2
  exit 1
}
version=$(PYTHONPATH=$root "$py" -c 'from app import __version__; print(__version__)')
arch=$(uname -m)
name="Sanctum-$version-linux-$arch"

if [ "$freeze" = 1 ]; then
  say "freezing Sanctum $version with PyInstaller (several minutes)"
  PYTHONPATH=$root "$py" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$dist" --workpath "$work" installers/sanctum.spec
fi

bundle=$dist/Sanctum
# A CPU-only build must carry no CUDA/cuDNN/NCCL libraries; refuse a bundle that does.
[ -x "$bundle/sanctum" ] || { echo "build: no bundle at $bundle" >&2; exit 1; }
if find "$bundle" \( -name 'libcuda*' -o -name 'libcudnn*' -o -name 'libnccl*' -o -name 'libcublas*' \
     -o -name 'libnvrtc*' -o -name 'libnvJitLink*' -o -name 'libtorch_cuda*' \) | grep .; then
  echo "build: CUDA libraries found in the bundle; install the CPU build of torch (see installers/setup.sh)" >&2
  exit 1
fi

# Desktop integration: icons rendered from resources/sanctum.svg by Qt (the venv's PySide6).
say "rendering icons"
share=$dist/share
rm -rf "$share"
QT_QPA_PLATFORM=offscreen "$py" installers/render_icons.py resources/sanctum.svg "$share/icons/hicolor"
say "bundle: $(du -sh "$bundle" | cut -f1) in $bundle"

[ "$tar" = 1 ] || exit 0
say "packing $name.tar.gz"
stage=$root/build/stage/$name
rm -rf "$root/build/stage"
mkdir -p "$stage"
cp -a "$bundle" "$stage/Sanctum"
cp -a "$share" "$stage/share"
cp installers/linux/sanctum.desktop installers/linux/install.sh installers/linux/uninstall.sh "$stage/"
echo "$version" > "$stage/VERSION"
tar -C "$root/build/stage" -czf "$dist/$name.tar.gz" "$name"
rm -rf "$root/build/stage"
say "done: $dist/$name.tar.gz ($(du -sh "$dist/$name.tar.gz" | cut -f1))"
