# The README's commands. Each runs the idempotent bootstrap first.
PY      := .venv/bin/python
BUILD   := build/py311
export OMP_NUM_THREADS ?= $(shell nproc)

.PHONY: bootstrap demo test test-cpp test-python test-full label-issues bench bench-ann bench-memory noisy-study noisy-products dedup dedup-amazon dedup-shopee dedup-fashion visual-search visual-search-fashion local-rerank local-rerank-fashion localisation tags tags-fashion test-crash test-sanitize fuzz check check-quick bench-compare history format clean

bootstrap:
	@bash scripts/bootstrap.sh

## make demo: train the Fashion-MNIST baseline, write results/fmnist_baseline/
demo: bootstrap
	$(PY) -m lookalike run experiments/fmnist_baseline.yaml

## make noisy-study: every noisy-label filter on Fashion-MNIST (5 noise settings x 3 seeds; long:
## ~28 h on 2 CPU cores by the measured 36-45 s per epoch, ~1.5 h on one H100 with --set device=cuda)
noisy-study: bootstrap
	$(PY) -m lookalike run experiments/noisy_fmnist.yaml

## make label-issues: confident-learning detection of 20 % planted symmetric noise on the full
## Fashion-MNIST training set (4-fold cross-training of a [32, 64, 128] ConvNet; ~22 min on 2 cores)
label-issues: bootstrap
	$(PY) -m lookalike run experiments/label_issues_fmnist.yaml

## make noisy-products: the filters on real product photos (fashion-products, 20 article types)
noisy-products: bootstrap
	$(PY) -m lookalike run experiments/noisy_products.yaml

## make dedup: the duplicate recall study on all three sets (results/dedup_<set>/report.md);
## measured on 2 CPU cores: amazon-google 76 s, shopee 37 s, fashion (simulated re-listings) ~12 min
dedup: dedup-amazon dedup-shopee dedup-fashion

## make visual-search: zero-shot retrieval on grocery-store photos — ConvNet from scratch, MobileNetV2
## random / ImageNet frozen / fine-tuned, and the loss table (results/visual_search_grocery/report.md)
visual-search: bootstrap
	$(PY) -m lookalike run experiments/visual_search.yaml

## make visual-search-fashion: the same on fashion-products (articleType x baseColour classes) with
## instance retrieval of simulated re-shot photos (results/visual_search_fashion/report.md)
visual-search-fashion: bootstrap
	$(PY) -m lookalike run experiments/visual_search_fashion.yaml

## make local-rerank: grocery shop photos' global top 50 re-ranked by SIFT + MAGSAC inliers, per family
## (results/local_rerank_grocery/report.md)
local-rerank: bootstrap
	$(PY) -m lookalike run experiments/local_rerank.yaml

## make local-rerank-fashion: re-shot fashion photos searching 9,583 catalogue photos for their original,
## top 50 re-ranked by SIFT + MAGSAC inliers (results/local_rerank_fashion/report.md)
local-rerank-fashion: bootstrap
	$(PY) -m lookalike run experiments/local_rerank_fashion.yaml

## make localisation: CAM boxes of clothing-co-parsing's garment tags scored against its boxes
## (GT-known, MaxBoxAcc, per tag; results/localisation_ccp/report.md)
localisation: bootstrap
	$(PY) -m lookalike run experiments/localisation_ccp.yaml

## make tags: garment tags of clothing-co-parsing: BCE vs ASL, pretrained vs scratch, per-tag
## thresholds, learning curves (results/tags_ccp/report.md)
tags: bootstrap
	$(PY) -m lookalike run experiments/tags_ccp.yaml

## make tags-fashion: attribute, usage/season and title-word tags of fashion-products, plus image vs
## title vs fused probes per family (results/tags_fashion/report.md)
tags-fashion: bootstrap
	$(PY) -m lookalike run experiments/tags_fashion.yaml

dedup-amazon: bootstrap
	$(PY) -m lookalike run experiments/dedup_amazon_google.yaml

dedup-shopee: bootstrap
	$(PY) -m lookalike run experiments/dedup_shopee.yaml

dedup-fashion: bootstrap
	$(PY) -m lookalike run experiments/dedup_fashion.yaml

## make test: C++ suite (ctest), Python suite (pytest), the notebooks at a small setting, and the
## quick form of the regression gate (check-quick)
test: bootstrap
	$(MAKE) --no-print-directory test-cpp test-python check-quick

## make check: the regression gate: every entry of experiments/expected.yaml (CI-sized study configs
## against their metric bands, benchmark ratios against their bounds); fails with the table
check: bootstrap
	$(PY) -m lookalike check experiments/expected.yaml

check-quick:
	$(PY) -m lookalike check experiments/expected.yaml --quick

## make bench-compare BASE=<commit>: the speed entries' scripts alternately on BASE (built in a
## worktree under build/worktrees) and on this tree, REPS times each, Mann-Whitney U per measure
REPS ?= 5
bench-compare: bootstrap
	@test -n "$(BASE)" || { echo "usage: make bench-compare BASE=<commit> [REPS=5]"; exit 2; }
	$(PY) -m lookalike bench-compare --base $(BASE) --reps $(REPS) experiments/expected.yaml

## make history: the gate's metrics against commit (results/history.jsonl), plotted to results/history.png
history:
	$(PY) -m lookalike history --plot results/history.png

test-cpp:
	ctest --test-dir $(BUILD) --output-on-failure -j1

test-python:
	LOOKALIKE_SMALL=1 $(PY) -m pytest -q tests/python

## make test-crash: the kill tests at 100 SIGKILLs per writer (index, update log, results, checkpoint;
## make test runs 8 per writer)
test-crash: bootstrap
	LOOKALIKE_FULL=1 $(PY) -m pytest -q tests/python/test_crash_safety.py

## make test-sanitize: the core and the C++ tests built by clang with ASan + UBSan (build/sanitize),
## then ctest under them (measured: core 10 min, tests ~10 min to build on 2 cores; ctest 3 min 17 s)
test-sanitize: bootstrap
	bash scripts/sanitize.sh

## make fuzz: each libFuzzer target (cpp/fuzz/) for FUZZ_SECONDS (default 600), FUZZ_JOBS at a time,
## from tests/fuzz/corpus/; findings in build/fuzz/findings/, table in results/fuzz/summary.json
fuzz: bootstrap
	bash scripts/fuzz.sh

## make test-full: the tests that need full-size runs (skipped by make test; ~25 min on 2 cores)
test-full: bootstrap
	LOOKALIKE_FULL=1 $(PY) -m pytest -q tests/python -m full

## make bench: side-by-side benchmarks (prints ratios measured in one run)
bench: bootstrap
	$(PY) experiments/benchmarks/train_throughput.py --json results/bench/train_throughput.json
	$(PY) experiments/benchmarks/metric_learning_throughput.py --json results/bench/metric_learning_throughput.json
	$(PY) experiments/benchmarks/tag_train_throughput.py --json results/bench/tag_train_throughput.json
	$(PY) experiments/benchmarks/embed_throughput.py --limit 640 --reps 2 --json results/bench/embed_throughput.json
	$(PY) experiments/benchmarks/verify_throughput.py --json results/bench/verify_throughput.json
	$(PY) experiments/benchmarks/localise_throughput.py --json results/bench/localise_throughput.json
	$(PY) experiments/benchmarks/knn_throughput.py --json results/bench/knn_throughput.json
	$(PY) experiments/benchmarks/index_overhead.py --json results/bench/index_overhead.json
	cmake -S . -B $(BUILD) -DLOOKALIKE_BENCH=ON >/dev/null && cmake --build $(BUILD) --target bench_index
	$(BUILD)/bench_index --benchmark_min_time=1 --benchmark_out=results/bench/bench_index.json

## make bench-ann: HNSW32 / IVF4096 on 1M vectors, recall@10 vs QPS and p99 (~15 min on 2 cores)
bench-ann: bootstrap
	$(PY) experiments/benchmarks/ann_sweep.py --out results/bench/ann_sweep

## make bench-memory: exact evaluation of 1M x 1M (d 128) with peak RSS (~30 min on 2 cores)
bench-memory: bootstrap
	$(PY) experiments/benchmarks/knn_memory.py --json results/bench/knn_memory.json

format:
	clang-format -i $$(git ls-files 'cpp/*.h' 'cpp/*.cpp' 'cpp/*.cu' 'python/src/*' 'tests/cpp/*' 'experiments/benchmarks/*.cpp')

clean:
	rm -rf build python/lookalike/_core*.so
