#!/usr/bin/env bash
# Install (or upgrade) Sanctum for the current user, from the unpacked tarball.
#
#   ./install.sh            install into ~/.local (no root needed)
#
# Puts the app in ~/.local/lib/sanctum/, a `sanctum` command in ~/.local/bin, a menu entry in
# ~/.local/share/applications and the icons in ~/.local/share/icons/hicolor. An upgrade replaces
# only those: your documents index, conversations and settings live in your data folder
# (~/.local/share/Sanctum, or $SANCTUM_HOME) and the key in your system keyring, and are kept.
# Environment: PREFIX (default ~/.local).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prefix=${PREFIX:-$HOME/.local}
dest=$prefix/lib/sanctum
say() { printf 'sanctum install: %s\n' "$*"; }

[ -x "$here/Sanctum/sanctum" ] || { echo "install.sh: run it from the unpacked Sanctum tarball" >&2; exit 1; }
version=$(cat "$here/VERSION" 2>/dev/null || echo unknown)
[ "$(uname -m)" = x86_64 ] || { echo "install.sh: this build is for x86_64, not $(uname -m)" >&2; exit 1; }

mkdir -p "$prefix/lib" "$prefix/bin" "$prefix/share/applications" "$prefix/share/icons/hicolor"
old=""
[ -f "$dest/VERSION" ] && old=$(cat "$dest/VERSION")

# Copy beside the old install, then swap: a failed copy (disk full) leaves the old one working.
stage=$(mktemp -d "$prefix/lib/.sanctum-new.XXXXXX")
trap 'rm -rf "$stage"' EXIT
cp -a "$here/Sanctum" "$stage/Sanctum"
cp "$here/VERSION" "$here/uninstall.sh" "$stage/"
if [ -d "$dest" ]; then
  mv "$dest" "$dest.old.$$"
  mv "$stage" "$dest"
  rm -rf "$dest.old.$$"
else
  mv "$stage" "$dest"
fi
trap - EXIT

ln -sfn "$dest/Sanctum/sanctum" "$prefix/bin/sanctum"
# The menu entry names the executable by its full path: ~/.local/bin is not always on a desktop's PATH.
sed -e "s|^Exec=sanctum|Exec=$dest/Sanctum/sanctum|" -e "s|^TryExec=sanctum|TryExec=$dest/Sanctum/sanctum|" \
  "$here/sanctum.desktop" > "$prefix/share/applications/sanctum.desktop"
(cd "$here/share/icons/hicolor" && find . -type f) | while read -r icon; do
  mkdir -p "$(dirname "$prefix/share/icons/hicolor/$icon")"
  cp "$here/share/icons/hicolor/$icon" "$prefix/share/icons/hicolor/$icon"
done
command -v update-desktop-database >/dev/null && update-desktop-database -q "$prefix/share/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$prefix/share/icons/hicolor" || true

if [ -n "$old" ]; then
  say "upgraded Sanctum $old -> $version in $dest (your data and settings are kept)"
else
  say "installed Sanctum $version in $dest"
fi
case ":$PATH:" in
  *":$prefix/bin:"*) say "start it from the menu, or run: sanctum" ;;
  *) say "start it from the menu, or run: $prefix/bin/sanctum ($prefix/bin is not on your PATH)" ;;
esac
command -v tesseract >/dev/null || say "note: OCR of scanned pages needs Tesseract (Debian/Ubuntu: sudo apt install tesseract-ocr tesseract-ocr-eng)"
