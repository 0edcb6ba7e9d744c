#!/usr/bin/env bash
# One device call: GPU tests + benchmark of engine-cuda, with nothing installed on the machine.
#   here:    engine-cuda/prepare-device-carry.sh
#   device:  run(command="bash engine-cuda/gpu-check.sh", carry=["device-carry"], timeout_s=600)
# Unpacks the carried jlink'd JDK 25, prints the device and driver, runs every test of engine-cuda with
# the JUnit console launcher (the GPU tests run in debug mode: every launch synchronized and checked),
# then DecodeBench. Results: stdout (tables last) and $OUT/{junit.txt,bench.md,junit-reports/}.
# Options (environment): QUICK=1 shorter benchmark; SKIP_BENCH=1; PROFILE=1b:Q4_0,7b:Q8_0 per-kernel times of
# a decode step; SKIP_TESTS=1; SANITIZE=1 runs the GPU tests under compute-sanitizer (memcheck, racecheck,
# synccheck) as well; --variants of DecodeBench compares the matvec variants (see BENCHMARKS.md).
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

junit() { "$java" "${flags[@]}" -jar "$carry/junit-console.jar" execute --class-path "$cp" --details=tree \
  --disable-banner --disable-ansi-colors "$@"; }
tests_rc=0
if [[ "${SKIP_TESTS:-0}" != 1 ]]; then
echo "== tests (JUnit console): the CPU-side tests in one JVM"
junit --select-package dev.jllm.cuda --exclude-classname '.*(KernelGpuTest|EndToEndGpuTest)' \
  --reports-dir "$out/junit-reports" 2>&1 | tee "$out/junit.txt"
tests_rc=${PIPESTATUS[0]}
: > "$out/gpu-tests.txt"
# each GPU test in its own JVM: a kernel fault is sticky for the process's CUDA context and would fail every
# later test there, hiding what they would have found
echo "== GPU tests, one JVM each (debug mode: every launch synchronized and checked)"
for cls in gpu/KernelGpuTest model/EndToEndGpuTest; do
  src="engine-cuda/src/test/java/dev/jllm/cuda/$cls.java"
  for m in $(grep -A1 '@Test' "$src" | grep -oP 'void \K\w+(?=\()'); do
    name="dev.jllm.cuda.${cls//\//.}#$m"
    if junit --select-method "$name" --details=none > "$out/one.txt" 2>&1; then echo "PASS $name" | tee -a "$out/gpu-tests.txt"
    else tests_rc=1; echo "FAIL $name" | tee -a "$out/gpu-tests.txt"; grep -m8 -E "=>|Exception|expected|Error" "$out/one.txt" | cut -c1-400; fi
    grep -qE "[1-9][0-9]* +tests aborted" "$out/one.txt" && echo "  (skipped: $(grep -m1 -i "assum\|skip" "$out/one.txt" | cut -c1-200))"
    cat "$out/one.txt" >> "$out/junit.txt"
  done
done
fi

if [[ "${SANITIZE:-0}" == 1 ]] && command -v compute-sanitizer >/dev/null; then
  # memcheck (bad addresses), racecheck (shared-memory hazards), synccheck (barrier misuse) on the kernel
  # tests; memcheck on the end-to-end ones
  : > "$out/sanitizer.txt"
  for run in "memcheck gpu.KernelGpuTest" "racecheck gpu.KernelGpuTest" "synccheck gpu.KernelGpuTest" "memcheck model.EndToEndGpuTest"; do
    set -- $run
    echo "== compute-sanitizer --tool $1 on $2" | tee -a "$out/sanitizer.txt"
    compute-sanitizer --tool "$1" --print-limit 10 "$java" "${flags[@]}" -jar "$carry/junit-console.jar" execute \
      --class-path "$cp" --select-class "dev.jllm.cuda.$2" --details=summary --disable-banner 2>&1 \
      | grep -E "=========|tests (successful|failed)" | grep -v "Host Frame\|backtrace\|^=========\s*$" | head -30 | tee -a "$out/sanitizer.txt"
  done
fi

bench_rc=0
if [[ -n "${PROFILE:-}" ]]; then
  echo "== per-kernel profile of a decode step ($PROFILE)"
  "$java" "${flags[@]}" -cp "$cp" dev.jllm.cuda.bench.DecodeBench --profile "$PROFILE" 2>&1 | tee "$out/profile.txt"
fi
if [[ "${SKIP_BENCH:-0}" != 1 ]]; then
  echo "== benchmark"
  "$java" "${flags[@]}" -cp "$cp" dev.jllm.cuda.bench.DecodeBench ${QUICK:+--quick} --out "$out/bench.md" 2>&1 | tee "$out/bench.txt"
  bench_rc=${PIPESTATUS[0]}
fi

echo "== summary"
if [[ "${SKIP_TESTS:-0}" != 1 ]]; then
  echo "CPU-side tests:"; grep -m4 -E "tests (successful|failed|aborted|skipped)" "$out/junit.txt"
  echo "GPU tests: $(grep -c ^PASS "$out/gpu-tests.txt") passed, $(grep -c ^FAIL "$out/gpu-tests.txt") failed"
  grep ^FAIL "$out/gpu-tests.txt"
fi
[[ -f "$out/bench.md" ]] && cat "$out/bench.md"
echo "tests rc=$tests_rc bench rc=$bench_rc"
exit $(( tests_rc != 0 || bench_rc != 0 ))
