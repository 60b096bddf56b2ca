#!/usr/bin/env bash
# Idempotent set-up of a fresh Debian bookworm machine for lookalike:
#   1. Debian packages (only those missing are installed; apt-get update runs first when needed),
#   2. .venv from /usr/bin/python3 with system site packages,
#   3. the package built and installed editable (skipped when no build input changed).
# Usage: scripts/bootstrap.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang-format git
  python3 python3-dev python3-venv python3-pip python3-setuptools python3-wheel
  libtorch-dev python3-torch
  libfaiss-dev python3-faiss
  libopenblas0-openmp libopenblas-dev
  pybind11-dev python3-pybind11 libeigen3-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  libopencv-dev libxapian-dev zlib1g-dev nlohmann-json3-dev
  python3-pytest python3-numpy python3-matplotlib python3-pandas python3-yaml python3-sklearn python3-scipy
  python3-markdown chromium python3-hypothesis
  clang libclang-rt-14-dev libgloo-dev
  python3-h5py libhdf5-dev libflatbuffers-dev flatbuffers-compiler python3-flatbuffers python3-opencv
  jupyter-nbconvert python3-nbclient python3-nbformat python3-ipykernel
  dataset-fashion-mnist
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[bootstrap] installing ${#missing[@]} Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# OpenBLAS with OpenMP must be the BLAS that torch and FAISS resolve, or they fall back to
# reference BLAS (~50x slower sgemm).
if command -v update-alternatives >/dev/null; then
  for alt in libblas.so.3-x86_64-linux-gnu liblapack.so.3-x86_64-linux-gnu; do
    cur=$(update-alternatives --query "$alt" 2>/dev/null | awk '/^Value:/ {print $2}')
    want=$(update-alternatives --list "$alt" 2>/dev/null | grep openblas-openmp | head -1 || true)
    if [ -n "$want" ] && [ "$cur" != "$want" ]; then
      SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
      $SUDO update-alternatives --set "$alt" "$want" >/dev/null
    fi
  done
fi

if [ ! -x .venv/bin/python ]; then
  echo "[bootstrap] creating .venv from /usr/bin/python3 (system site packages)"
  /usr/bin/python3 -m venv --system-site-packages .venv
fi

# The notebooks' kernel must be this venv's interpreter (the 'python3' on PATH may be another).
if [ ! -f .venv/share/jupyter/kernels/python3/kernel.json ]; then
  .venv/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (lookalike)" >/dev/null
fi

[ "${1:-}" = "--no-build" ] && exit 0

# Rebuild only when a build input changed since the last successful install.
stamp=build/.bootstrap-stamp
hash=$(find CMakeLists.txt pyproject.toml setup.py cpp python/src tests/cpp experiments/benchmarks -type f -print0 2>/dev/null \
  | sort -z | xargs -0 sha1sum | sha1sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] && .venv/bin/python -c "import lookalike._core" 2>/dev/null; then
  echo "[bootstrap] up to date"
  exit 0
fi
echo "[bootstrap] building lookalike (pip install --no-build-isolation -e .)"
.venv/bin/python -m pip install --no-build-isolation --no-deps --no-index -q -e . 
mkdir -p build
echo "$hash" >"$stamp"
echo "[bootstrap] done"
