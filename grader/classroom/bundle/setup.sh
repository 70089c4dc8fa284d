#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image: it installs the kit's
# locked environment and verifies the Fashion-MNIST files shipped in the bundle.
set -euo pipefail
kit=/autograder/source/kit

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-pip python3-venv make bubblewrap

make -C "$kit" setup
FASHION_MNIST_DIR="$kit/data/fashion-mnist" make -C "$kit" data
