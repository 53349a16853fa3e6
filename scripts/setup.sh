#!/usr/bin/env bash
# Installs the Debian packages attnsim needs; idempotent and fast when nothing is missing.
#
# Usage: scripts/setup.sh [--check] [--with-torch]
#   --check       list what is missing and exit 1 if anything is (installs nothing)
#   --with-torch  also install Debian's CPU PyTorch (optional; ~165 packages)
#
# Why one apt call: Boost 1.81 is the only Debian Boost with Boost.JSON and its -dev
# packages conflict with 1.74's, so nothing here may pull 1.74 (no scipy, no boost-all).
# CUDA is not a Debian package: the build uses nvcc when present and says so when not.
# python3-plotly writes the HTML run reports (plotly.js embedded: they open offline);
# chromium is a test dependency: the report tests render them headless (they skip without it).
set -euo pipefail

readonly PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git zlib1g-dev
  clang-format
  libsystemc-dev verilator yosys
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev libboost-math1.81-dev
  libyaml-cpp-dev libdeflate-dev pybind11-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  python3 python3-dev python3-numpy python3-matplotlib python3-pandas python3-yaml python3-pytest
  python3-dask python3-distributed python3-tqdm python3-munkres python3-plotly
  chromium
)
readonly OPTIONAL_TORCH=(python3-torch)

check_only=0
wanted=("${PACKAGES[@]}")
for arg in "$@"; do
  case "$arg" in
    --check) check_only=1 ;;
    --with-torch) wanted+=("${OPTIONAL_TORCH[@]}") ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown argument '$arg' (expected --check or --with-torch)" >&2; exit 2 ;;
  esac
done

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "setup.sh: dpkg-query not found: this script supports Debian 12 (bookworm) only" >&2
  exit 2
fi

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#wanted[@]} packages present"
else
  echo "setup: missing ${#missing[@]} package(s): ${missing[*]}"
  if [[ $check_only -eq 1 ]]; then exit 1; fi
  if [[ $(id -u) -eq 0 ]]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "setup.sh: need root or sudo to install: ${missing[*]}" >&2
    exit 2
  fi
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  echo "setup: installed ${#missing[@]} package(s)"
fi

if command -v nvcc >/dev/null 2>&1 || [[ -x /usr/local/cuda/bin/nvcc ]]; then
  echo "setup: CUDA nvcc found: golden kernels will be built for sm_90"
else
  echo "setup: CUDA nvcc not found: golden kernels will be skipped (everything else builds)"
fi
