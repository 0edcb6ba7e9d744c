#!/usr/bin/env bash
# One device call: GPU tests + benchmark of engine-cuda, with nothing installed on the machine.
#   here:    engine-cuda/prepare-device-carry.sh
#   device:  run(command="bash engine-cuda/gpu-check.sh", carry=["device-carry"], timeout_s=600)
# Unpacks the carried jlink'd JDK 25, prints the device and driver, runs every test of engine-cuda with
# the JUnit console launcher (the GPU tests run in debug mode: every launch synchronized and checked),
# then DecodeBench. Results: stdout (tables last) and $OUT/{junit.txt,bench.md,junit-reports/}.
# Options (environment): QUICK=1 shorter benchmark; SKIP_BENCH=1; SANITIZE=1 runs the GPU tests under
# compute-sanitizer memcheck as well (slow).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
carry="$root/device-carry"
out="${OUT:-/tmp/jllm-gpu-check}"
mkdir -p "$out"
[[ -f "$carry/jdk.tar.gz" ]] || { echo "device-carry/jdk.tar.gz missing: run engine-cuda/prepare-device-carry.sh and carry device-carry" >&2; exit 2; }
echo "== commit of the jars: $(cat "$carry/COMMIT" 2>/dev/null || echo '?'); working tree: $(git rev-parse --short HEAD 2>/dev/null || echo '?')"

jdk=/tmp/jllm-jdk
rm -rf "$jdk" && mkdir -p "$jdk" && tar -xzf "$carry/jdk.tar.gz" -C "$jdk" --strip-components=1
java="$jdk/bin/java"
"$java" -version 2>&1 | head -1

echo "== device"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv,noheader
else
  echo "nvidia-smi not found"
fi
ldconfig -p 2>/dev/null | grep -m3 libcuda || echo "libcuda not in the ldconfig cache (NativeCudaDriver also looks in /usr/local/nvidia/lib64)"

cp="$(ls "$carry"/lib/*.jar | tr '\n' ':')"
flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m -Djllm.cuda.require.fatbin=true
       -Djllm.shared.dir="$carry/shared")

echo "== tests (JUnit console)"
"$java" "${flags[@]}" -jar "$carry/junit-console.jar" execute --class-path "$cp" --select-package dev.jllm.cuda \
  --details=tree --disable-banner --disable-ansi-colors --reports-dir "$out/junit-reports" 2>&1 | tee "$out/junit.txt"
tests_rc=${PIPESTATUS[0]}

if [[ "${SANITIZE:-0}" == 1 ]] && command -v compute-sanitizer >/dev/null; then
  echo "== compute-sanitizer memcheck on the GPU kernel tests"
  compute-sanitizer --tool memcheck --print-limit 20 "$java" "${flags[@]}" -jar "$carry/junit-console.jar" execute \
    --class-path "$cp" --select-class dev.jllm.cuda.gpu.KernelGpuTest --details=summary --disable-banner 2>&1 | tail -40 | tee "$out/sanitizer.txt"
fi

bench_rc=0
if [[ "${SKIP_BENCH:-0}" != 1 ]]; then
  echo "== benchmark"
  "$java" "${flags[@]}" -cp "$cp" dev.jllm.cuda.bench.DecodeBench ${QUICK:+--quick} --out "$out/bench.md" 2>&1 | tee "$out/bench.txt"
  bench_rc=${PIPESTATUS[0]}
fi

echo "== summary"
grep -E "tests (successful|failed|skipped|aborted)" "$out/junit.txt" || true
echo "(aborted = skipped by an assumption, e.g. 'no CUDA device')"
grep -B2 -A12 "Failures (" "$out/junit.txt" | head -60 || true
[[ -f "$out/bench.md" ]] && cat "$out/bench.md"
echo "tests rc=$tests_rc bench rc=$bench_rc"
exit $(( tests_rc != 0 || bench_rc != 0 ))
