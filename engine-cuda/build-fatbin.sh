#!/usr/bin/env bash
# Compiles src/main/cuda/*.cu (through the single unit all_kernels.cu) into ONE fatbin with SASS for
# sm_80 and sm_90 and PTX for compute_90, written to $1/dev/jllm/cuda/jllm-kernels.fatbin (a jar resource).
# Run by Maven at generate-resources. Without nvcc it prints why and exits 0: the jar then has no
# fatbin and the CUDA backend reports "kernels not built" at start instead of failing the build.
# NVCC=/path/to/nvcc overrides the lookup; JLLM_REQUIRE_NVCC=1 turns a missing nvcc into an error.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out_dir="${1:?usage: build-fatbin.sh OUTPUT_CLASSES_DIR}"
src="$here/src/main/cuda"
out="$out_dir/dev/jllm/cuda/jllm-kernels.fatbin"

nvcc="${NVCC:-}"
if [[ -z "$nvcc" ]]; then
  if command -v nvcc >/dev/null 2>&1; then nvcc="$(command -v nvcc)"
  elif [[ -x /usr/local/cuda/bin/nvcc ]]; then nvcc=/usr/local/cuda/bin/nvcc
  fi
fi
if [[ -z "$nvcc" ]]; then
  msg="[jllm-cuda] nvcc not found (PATH, /usr/local/cuda/bin, \$NVCC): CUDA kernels NOT built; the jar has no fatbin and the CUDA backend will be unavailable."
  if [[ "${JLLM_REQUIRE_NVCC:-0}" == 1 ]]; then echo "$msg" >&2; exit 1; fi
  echo "$msg"
  exit 0
fi

# Up to date? (newest source older than the fatbin)
if [[ -f "$out" ]] && [[ -z "$(find "$src" "$0" -newer "$out" -print -quit)" ]]; then
  echo "[jllm-cuda] $out is up to date"
  exit 0
fi

mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
echo "[jllm-cuda] $nvcc: all_kernels.cu -> $out (sm_80, sm_90, compute_90)"
start=$(date +%s)
# --compress-mode=none keeps the ELF images readable by the tests (FatbinTest lists their symbols);
# -lineinfo lets compute-sanitizer and Nsight name the source line (no effect on the generated code).
"$nvcc" -fatbin -O3 -lineinfo -std=c++17 --compress-mode=none --threads 2 \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_90,code=sm_90 \
  -gencode arch=compute_90,code=compute_90 \
  -I "$src" -o "$tmp" "$src/all_kernels.cu"
mv -f "$tmp" "$out"
echo "[jllm-cuda] fatbin $(stat -c %s "$out") bytes in $(( $(date +%s) - start )) s"
