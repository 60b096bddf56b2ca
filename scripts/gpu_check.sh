#!/usr/bin/env bash
# Builds lookalike against the interpreter's (CUDA) torch in build-gpu/ and runs the C++ suite
# plus a CUDA smoke test of the Python module. For a GPU host with pip torch (no FAISS/OpenCV
# needed: those paths compile out). Usage: scripts/gpu_check.sh [outdir]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build-gpu}")
py=$(command -v python3)
cmake -S . -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE="$py" \
  -DLOOKALIKE_PYTHON_OUTPUT_DIR="$out/python/lookalike" >"$out.configure.log" 2>&1 || { tail -40 "$out.configure.log"; exit 1; }
grep -E "lookalike:" "$out.configure.log" || true
cmake --build "$out" --parallel "$(nproc)" 2>&1 | tail -5
(cd "$out" && ctest --output-on-failure -j1 2>&1 | grep -E "Cuda|tests passed|Failed|failed" )
cp -r python/lookalike/*.py python/lookalike/studies "$out/python/lookalike/" 2>/dev/null || true
PYTHONPATH="$out/python" "$py" - <<'PY'
import time, torch, lookalike
print(lookalike.build_info())
x = (torch.rand(4096, 1, 28, 28) * 255).to(torch.uint8)
y = torch.randint(0, 10, (4096,))
t = time.perf_counter()
r = lookalike.fit(x, y, epochs=2, batch_size=256, device="cuda", progress="off")
print("cuda fit", round(time.perf_counter() - t, 2), "s", r.history[-1])
e = lookalike.embed(r.model, x, device="cuda")
print("cuda retrieval", lookalike.eval.retrieval_metrics(e.cuda(), y.cuda(), k=(1, 10), backend="torch"))
PY
