#!/usr/bin/env bash
# Gradescope runs this once, as root on Ubuntu, when it builds the autograder's image: it installs the
# kit's locked environment and verifies the Fashion-MNIST files shipped in the bundle.
#
# The kit is the folder kit/ beside this script (Gradescope unpacks the bundle into /autograder/source),
# else $AUTOGRADER_ROOT/source/kit. System packages are installed with apt only when one is missing, and
# only as root; without root, the script names what to install and stops.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
kit="$here/kit"
if [ ! -d "$kit" ] && [ -n "${AUTOGRADER_ROOT:-}" ]; then
  kit="$AUTOGRADER_ROOT/source/kit"
fi
if [ ! -f "$kit/Makefile" ]; then
  echo "setup.sh: no kit at $kit (expected kit/ beside this script, or \$AUTOGRADER_ROOT/source/kit)" >&2
  exit 1
fi

# The Debian/Ubuntu packages the kit needs, each with the test that says it is present.
missing=()
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: missing ${missing[*]}; as root, run apt-get install -y ${missing[*]}, then run setup.sh again" >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]} with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup.sh: python3 (with venv and pip), make and bubblewrap are present; apt is not needed"
fi

make -C "$kit" setup
FASHION_MNIST_DIR="$kit/data/fashion-mnist" make -C "$kit" data
