#!/usr/bin/env bash
# Remove Sanctum installed by install.sh. Your data stays unless you ask for it to go.
#
#   ~/.local/lib/sanctum/uninstall.sh                    remove the app, keep your data
#   ~/.local/lib/sanctum/uninstall.sh --purge-data       also delete your data (asks first)
#   ~/.local/lib/sanctum/uninstall.sh --purge-data --yes   ... without asking
#
# Data: ~/.local/share/Sanctum (or $XDG_DATA_HOME/Sanctum, or $SANCTUM_HOME) and the data key in
# the system keyring ("Sanctum" entry). Environment: PREFIX (default ~/.local).
set -euo pipefail

prefix=${PREFIX:-$HOME/.local}
dest=$prefix/lib/sanctum
purge=0 yes=0
for arg in "$@"; do
  case "$arg" in
    --purge-data) purge=1 ;;
    --yes|-y) yes=1 ;;
    *) echo "usage: uninstall.sh [--purge-data [--yes]]" >&2; exit 2 ;;
  esac
done
say() { printf 'sanctum uninstall: %s\n' "$*"; }

data=${SANCTUM_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/Sanctum}
if [ "$purge" = 1 ] && [ -d "$data" ]; then
  if [ "$yes" != 1 ]; then
    if [ ! -t 0 ]; then
      echo "uninstall.sh: --purge-data deletes $data for good; add --yes to confirm without a terminal" >&2
      exit 2
    fi
    printf 'Delete all Sanctum data in %s (library, conversations, settings) and its key? Type "delete": ' "$data"
    read -r answer
    [ "$answer" = delete ] || { say "nothing removed"; exit 1; }
  fi
fi

# The data first, while the app that can open it is still here: `sanctum wipe` deletes the data key
# from the keyring, then every file (see the README's Privacy section).
if [ "$purge" = 1 ] && [ -d "$data" ] && [ -x "$dest/Sanctum/sanctum" ]; then
  if SANCTUM_HOME="$data" "$dest/Sanctum/sanctum" wipe --yes; then
    say "deleted your data and its key"
  else
    say "sanctum wipe failed; deleting the data folder instead"
  fi
fi

# The app.
if [ -L "$prefix/bin/sanctum" ] && [ "$(readlink "$prefix/bin/sanctum")" = "$dest/Sanctum/sanctum" ]; then
  rm -f "$prefix/bin/sanctum"
fi
rm -f "$prefix/share/applications/sanctum.desktop"
for icon in 48x48/apps/sanctum.png 128x128/apps/sanctum.png 256x256/apps/sanctum.png scalable/apps/sanctum.svg; do
  rm -f "$prefix/share/icons/hicolor/$icon"
done
command -v update-desktop-database >/dev/null && update-desktop-database -q "$prefix/share/applications" || true
rm -rf "$dest"
say "removed the app from $dest"

if [ "$purge" != 1 ]; then
  [ -d "$data" ] && say "your data is kept in $data (remove it with: uninstall.sh --purge-data)"
  exit 0
fi
if [ -d "$data" ]; then
  # The data key's keyring entry: its name is in keyinfo.json (nothing secret there).
  info=$data/keyinfo.json
  if [ -f "$info" ] && grep -q '"mode": *"keyring"' "$info"; then
    account=$(sed -n 's/.*"account": *"\([^"]*\)".*/\1/p' "$info")
    service=$(sed -n 's/.*"service": *"\([^"]*\)".*/\1/p' "$info")
    if command -v secret-tool >/dev/null && [ -n "$account" ]; then
      secret-tool clear service "${service:-Sanctum}" username "$account" && say "removed the data key from the keyring" || true
    else
      say "the data key stays in your keyring as \"${service:-Sanctum}\" / \"$account\" (it opens nothing once the data is gone); remove it with your keyring app"
    fi
  fi
  rm -rf "$data"
  say "deleted your data in $data"
fi
