#!/bin/sh
# Sets up a fresh Debian machine with Node 20 for webgpu-backprop, then installs the
# npm dependencies. System packages, installed only where missing:
#   libvulkan1  the Vulkan loader, through which Dawn (the `webgpu` package) finds a GPU
#   chromium    the browser the end-to-end tests drive; it also ships SwiftShader, the
#               Vulkan driver that runs WebGPU on the CPU on machines without a GPU
#   fonts-dejavu-core  text in the browser tests' screenshots
#   python3-torch  PyTorch for Debian's /usr/bin/python3, which runs the train.py that the
#               PyTorch export writes (the tests run it; another python3 first on PATH may
#               lack torch)
# A machine with a GPU and its Vulkan driver uses the GPU; SwiftShader is the fallback.
set -eu
cd "$(dirname "$0")/.."

missing=""
for package in libvulkan1 chromium fonts-dejavu-core python3-torch; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing with apt-get"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq$missing >/dev/null
fi

# onnxruntime-node (for the tests) runs on the CPU libraries its package ships; without
# this its install step would fetch CUDA libraries from outside the npm registry. Set here
# (and by .ci/run), not in .npmrc: npm warns of any key it does not know there, on every
# `npm run` and `npx`, before the command's first line.
export ONNXRUNTIME_NODE_INSTALL=skip
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
echo "setup: done"
