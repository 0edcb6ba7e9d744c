#!/usr/bin/env bash
# Prepares device-carry/ (git-ignored, at the repository root) for engine-cuda/gpu-check.sh on a GPU
# machine that has no JDK and no Maven:
#   device-carry/jdk.tar.gz  a jlink'd JDK 25 runtime (only the modules the jars need, found by jdeps)
#   device-carry/lib/*.jar   jllm-gguf, jllm-engine, jllm-engine-cuda (with the fatbin), its test classes
#   device-carry/junit-console.jar  the JUnit console launcher (standalone)
#   device-carry/shared/     the models and goldens the end-to-end GPU tests read (12 MB)
# Run here, from anywhere:  engine-cuda/prepare-device-carry.sh
# Then, in ONE device call:  run(command="bash engine-cuda/gpu-check.sh", carry=["device-carry"])
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
target="${JLLM_TARGET:-target-cuda}"
junit_version="${JUNIT_VERSION:-6.0.3}"
carry="$root/device-carry"

echo "[carry] building jars (target folder $target)"
./mvnw -B -q -pl engine-cuda -am package -DskipTests -Djllm.target="$target"
[[ -f "engine-cuda/$target/classes/dev/jllm/cuda/jllm-kernels.fatbin" ]] || { echo "[carry] no fatbin built (nvcc missing?)" >&2; exit 1; }

rm -rf "$carry"
mkdir -p "$carry/lib" "$carry/shared"
cp gguf/"$target"/jllm-gguf-*.jar engine/"$target"/jllm-engine-*.jar engine-cuda/"$target"/jllm-engine-cuda-*.jar "$carry/lib/"
"$JAVA_HOME/bin/jar" --create --file "$carry/lib/jllm-engine-cuda-tests.jar" -C "engine-cuda/$target/test-classes" .
./mvnw -B -q dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_version" \
  -DoutputDirectory="$carry/lib" -Dmdep.stripVersion=true
mv "$carry/lib/junit-platform-console-standalone.jar" "$carry/junit-console.jar"

modules="$("$JAVA_HOME/bin/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps \
  --class-path "$carry/lib/*:$carry/junit-console.jar" "$carry"/lib/*.jar "$carry/junit-console.jar" 2>/dev/null || true)"
modules="${modules:-java.base}"
modules="$modules,java.base,java.logging,java.management,jdk.incubator.vector,jdk.unsupported,jdk.zipfs"
echo "[carry] jlink modules: $modules"
rm -rf /tmp/jllm-jdk-$$
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --compress=zip-6 --output /tmp/jllm-jdk-$$/jdk
tar -C /tmp/jllm-jdk-$$ -czf "$carry/jdk.tar.gz" jdk
rm -rf /tmp/jllm-jdk-$$
# the reference data the end-to-end GPU tests read (../shared does not travel to the device)
shared="${JLLM_SHARED:-$root/../shared}"
( cd "$shared" && cp --parents models/stories260K/stories260K.gguf models/tinystories656K/TinyStories-656K-f32.gguf \
    golden/stories260K.llamacpp.kvf32.json golden/ts656k.llamacpp.f32.kvf32.json \
    golden/random/{llama2-mha,llama3-ropescale,mistral-swa,mixtral-moe}/{*.gguf,reference.json,a.prompt_logits.f32} "$carry/shared/" ) \
  || { echo "[carry] could not copy the shared reference data from $shared" >&2; exit 1; }
git -C "$root" rev-parse HEAD > "$carry/COMMIT"
du -sh "$carry"/* | sed 's/^/[carry] /'
echo "[carry] total $(du -sh "$carry" | cut -f1) (the device call carries at most 64 MiB with the working tree)"
