"""Writes the study notebooks from the cells below (so they diff as code). Run after editing:
    .venv/bin/python notebooks/make_notebooks.py
"""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

FMNIST = [
    new_markdown_cell(
        "# 01 · Fashion-MNIST baseline\n\n"
        "A ConvNet trained by lookalike's C++ loop, its test accuracy, and retrieval metrics of the "
        "test embeddings against themselves (pytorch-metric-learning definitions). "
        "`LOOKALIKE_SMALL=1` shrinks data and epochs (CI runs it that way); the full run is "
        "`make demo` (`lookalike run experiments/fmnist_baseline.yaml`)."),
    new_code_cell(
        "import os\n"
        "import lookalike\n"
        "from lookalike import plot\n\n"
        "SMALL = os.environ.get('LOOKALIKE_SMALL') == '1'\n"
        "lookalike.set_threads(0)  # torch, OpenMP/FAISS and OpenBLAS: all cores\n"
        "lookalike.build_info()"),
    new_code_cell(
        "x_train, y_train = lookalike.data.fashion_mnist('train')\n"
        "x_test, y_test = lookalike.data.fashion_mnist('test')\n"
        "if SMALL:\n"
        "    idx, _ = lookalike.data.random_split(len(y_train), 0.02, seed=0, labels=y_train)\n"
        "    x_train, y_train = x_train[idx], y_train[idx]\n"
        "    idx, _ = lookalike.data.random_split(len(y_test), 0.05, seed=1, labels=y_test)\n"
        "    x_test, y_test = x_test[idx], y_test[idx]\n"
        "val_idx, train_idx = lookalike.data.random_split(len(y_train), 0.05, seed=2, labels=y_train)\n"
        "x_train.shape, x_test.shape"),
    new_code_cell(
        "result = lookalike.fit(\n"
        "    x_train[train_idx], y_train[train_idx], val=(x_train[val_idx], y_train[val_idx]),\n"
        "    epochs=1 if SMALL else 10, batch_size=128, lr=2e-3, weight_decay=1e-4, augment='flip',\n"
        "    channels=[16, 32] if SMALL else [32, 64, 128], embedding_dim=128, seed=0, progress='off')\n"
        "result.history[-1]"),
    new_code_cell("plot.training_curves(result.history, title='ConvNet on Fashion-MNIST');"),
    new_code_cell(
        "test = result.model.evaluate(x_test, y_test)\n"
        "emb = lookalike.embed(result.model, x_test)\n"
        "metrics = lookalike.eval.retrieval_metrics(emb, y_test, k=(1, 10))\n"
        "print(f\"test accuracy {test['accuracy']:.4f}\")\n"
        "metrics"),
    new_code_cell(
        "plot.embedding_pca(emb, y_test, lookalike.data.FASHION_MNIST_CLASSES, max_points=2000);"),
]


NOISY = [
    new_markdown_cell(
        "# 02 · Noisy labels\n\n"
        "Planted label noise on Fashion-MNIST, the in-training filters of the C++ Trainer "
        "(`filter=` one of none, small_loss, coteaching, coteaching_plus, jocor, loss_history, "
        "confident_learning), and post-hoc label-issue detection by confident learning. "
        "`LOOKALIKE_SMALL=1` shrinks everything (CI); the full study is "
        "`lookalike run experiments/noisy_fmnist.yaml` (`make noisy-study`)."),
    new_code_cell(
        "import os\n"
        "import torch\n"
        "import lookalike\n"
        "from lookalike import noisy, plot\n\n"
        "SMALL = os.environ.get('LOOKALIKE_SMALL') == '1'\n"
        "lookalike.set_threads(0)\n"
        "x_train, y_train = lookalike.data.fashion_mnist('train')\n"
        "x_test, y_test = lookalike.data.fashion_mnist('test')\n"
        "n_train, n_test = (1500, 500) if SMALL else (20000, 10000)\n"
        "x_train, y_train, x_test, y_test = x_train[:n_train], y_train[:n_train], x_test[:n_test], y_test[:n_test]"),
    new_markdown_cell("## Plant noise (exact and seeded) and check the realised transition matrix"),
    new_code_cell(
        "noisy_y, corrupted, T, rate = noisy.inject_noise(y_train, kind='pairflip', rate=0.45, seed=0)\n"
        "R = noisy.realised_transition(y_train, noisy_y)\n"
        "print(f'realised rate {rate:.4f}; largest |realised - asked| {float((R - T).abs().max()):.4f}')\n"
        "R.diagonal()"),
    new_markdown_cell("## Train every filter under the same budget"),
    new_code_cell(
        "epochs = 2 if SMALL else 15\n"
        "common = dict(epochs=epochs, batch_size=128, lr=1e-3, channels=[8, 16] if SMALL else [32, 64],\n"
        "              embedding_dim=64, num_gradual=max(1, epochs // 3), forget_rate=0.45, cl_epochs=max(1, epochs // 3),\n"
        "              coteaching_plus_init_epoch=1 if SMALL else 5, seed=0, progress='off')\n"
        "runs = []\n"
        "for f in ['none', 'small_loss', 'coteaching', 'jocor', 'loss_history', 'confident_learning']:\n"
        "    r = lookalike.fit(x_train, noisy_y, clean_labels=y_train, val=(x_test, y_test), filter=f, **common)\n"
        "    runs.append({'noise': 'pairflip-45', 'strategy': f,\n"
        "                 'accuracy_curve': [h['val_accuracy'] for h in r.history],\n"
        "                 'label_precision_curve': [h['label_precision'] for h in r.history]})\n"
        "    print(f\"{f:18s} last test accuracy {r.history[-1]['val_accuracy']:.4f}  \"\n"
        "          f\"label precision of kept samples {r.history[-1]['label_precision']:.3f}\")"),
    new_code_cell("plot.noisy_curves(runs, 'accuracy_curve', 'test accuracy');"),
    new_code_cell("plot.noisy_curves(runs, 'label_precision_curve', 'label precision of kept samples');"),
    new_markdown_cell("## Label issues by confident learning (out-of-fold probabilities)"),
    new_code_cell(
        "sym_y, sym_bad, _, _ = noisy.inject_noise(y_train, kind='symmetric', rate=0.2, seed=1)\n"
        "probs = noisy.cross_val_pred_probs(x_train, sym_y, folds=2 if SMALL else 4, epochs=1 if SMALL else 5,\n"
        "                                   channels=[8, 16] if SMALL else [32, 64], batch_size=128, seed=0)\n"
        "for how in ['prune_by_noise_rate', 'prune_by_class', 'both', 'confident_learning']:\n"
        "    issues = noisy.find_label_issues(sym_y, probs, filter_by=how)\n"
        "    q = lookalike.eval.prf(issues, sym_bad)\n"
        "    print(f'{how:20s} precision {q[\"precision\"]:.3f}  recall {q[\"recall\"]:.3f}')\n"
        "print('estimated noise rate', round(noisy.estimate_noise_rate(sym_y, probs), 3))"),
]

DEDUP = [
    new_markdown_cell(
        "# 03 · Duplicate-product recall study\n\n"
        "Coupang's study as a tool: each pipeline proposes n candidates per listing — `bm25` "
        "(Xapian), `text` (the C++ title encoder + vector index), `phash` (Hamming distance on "
        "Shopee's 64-bit image hash, FAISS binary index) — and the study compares their true "
        "positives: pair recall@n (true pairs found / all true pairs of the queries) per pipeline and of the union, overlap, gain over BM25, the matcher, "
        "threshold clustering with Shopee's mean F1. `LOOKALIKE_SMALL=1` shrinks the runs (CI); the "
        "full runs are `make dedup-amazon`, `make dedup-shopee`, `make dedup-fashion`."),
    new_code_cell(
        "import os, tempfile\n"
        "from pathlib import Path\n"
        "import pandas as pd\n"
        "import lookalike\n"
        "from lookalike import dedup, plot, runner\n\n"
        "SMALL = os.environ.get('LOOKALIKE_SMALL') == '1'\n"
        "EXP = Path('..') / 'experiments'\n"
        "small = ['ns=[1,5,10]', 'text.epochs=1', 'text.dim=64'] if SMALL else []\n"
        "out_root = Path(tempfile.mkdtemp()) if SMALL else Path('..') / 'results'\n\n"
        "def show(m):\n"
        "    gt = m['ground_truth']\n"
        "    names = [p for p in gt['pair_recall'] if p != 'union']\n"
        "    plot.recall_at_n(gt['pair_recall'], m['name'])\n"
        "    plot.overlap_matrix(names, [[gt['overlap_share'][a][b] or 0 for b in names] for a in names])\n"
        "    plot.venn(names, gt['venn'])\n"
        "    return pd.DataFrame(gt['pair_recall']).T.rename(columns=lambda n: f'pair_recall@{n}')"),
    new_markdown_cell("## Amazon-Google: real matching offers of two shops (groups from gold.csv by union-find)"),
    new_code_cell(
        "m_ag = runner.run(str(EXP / 'dedup_amazon_google.yaml'), small + (['data.limit=1000'] if SMALL else []),\n"
        "                  out=str(out_root / 'dedup_amazon_google'))\n"
        "show(m_ag)"),
    new_code_cell(
        "pd.DataFrame(m_ag['ground_truth']['gain_over_bm25']).T.rename(columns=lambda n: f'gain@{n}')"),
    new_code_cell(
        "mt = m_ag['matcher']\n"
        "print(f\"matcher: precision {mt['precision']:.3f}, recall {mt['recall_of_candidates']:.3f}, F1 {mt['f1']:.3f} \"\n"
        "      f\"at threshold {mt['threshold']:.3f}\")\n"
        "pd.Series(mt['weights'], name='weight (standardised features)')"),
    new_markdown_cell("## Shopee: marketplace titles and perceptual hashes"),
    new_code_cell(
        "m_sh = runner.run(str(EXP / 'dedup_shopee.yaml'), small + (['queries=200'] if SMALL else []),\n"
        "                  out=str(out_root / 'dedup_shopee'))\n"
        "show(m_sh)"),
    new_code_cell(
        "c = m_sh['clustering']\n"
        "print(f\"threshold clustering on {c['embedding']} embeddings: test mean F1 {c['test_mean_f1']:.3f} \"\n"
        "      f\"(Shopee's metric; TF-IDF + image baselines reach about 0.70 on the full competition data)\")\n"
        "pd.DataFrame([{'threshold': s['threshold'], 'clusters': s['clusters'], 'test F1': s['test']['mean_f1']}\n"
        "              for s in c['sweep']])"),
    new_markdown_cell("## Pairs only one pipeline finds"),
    new_code_cell(
        "for name, examples in m_sh['gallery'].items():\n"
        "    print(f'only {name}:')\n"
        "    for e in examples[:3]:\n"
        "        print('   ', e['query_title'][:60], '<->', e['match_title'][:60])"),
    new_markdown_cell("## The pieces on their own: your listings file, one pipeline"),
    new_code_cell(
        "items = dedup.load_set('shopee_dev')\n"
        "print(items.summary())\n"
        "train, test = dedup.split_groups(items.groups, 0.5, seed=0)\n"
        "bm25 = dedup.make_pipeline('bm25', language='none').fit(items, train)\n"
        "ids, scores = bm25.candidates(5)\n"
        "q = test[:3]\n"
        "for r in q.tolist():\n"
        "    print(items.titles[r][:50], '->', [items.titles[c][:30] for c in ids[r, :2].tolist()])"),
]


VISUAL = [
    new_markdown_cell(
        "# 04 · Visual search\n\n"
        "The metric-learning protocol on real product photos: the classes are split, the models never see "
        "the test classes, and the test classes' photos are searched among themselves (P@1, R@k, "
        "R-precision, MAP@R). Models: a ConvNet trained from scratch, MobileNetV2 with random weights, "
        "the ImageNet MobileNetV2 (TFLite weights loaded in C++) frozen and fine-tuned; then one model "
        "fine-tuned with each metric-learning loss. On grocery-store each shop photo also searches the "
        "81 catalogue images (buyer-to-catalogue accuracy@k). `LOOKALIKE_SMALL=1` shrinks the run "
        "(CI); the full run is `make visual-search` (`lookalike run experiments/visual_search.yaml`)."),
    new_code_cell(
        "import os, tempfile\n"
        "from pathlib import Path\n"
        "import pandas as pd\n"
        "import lookalike\n"
        "from lookalike import data, eval as ev, plot, runner, train\n\n"
        "SMALL = os.environ.get('LOOKALIKE_SMALL') == '1'\n"
        "EXP = Path('..') / 'experiments'\n"
        "small = ['data.image_size=64', 'data.max_per_class=4', 'data.val_fraction=0', 'train.epochs=1',\n"
        "         'train.batch_size=32'] if SMALL else []\n"
        "out = Path(tempfile.mkdtemp()) / 'visual_search' if SMALL else Path('..') / 'results' / 'visual_search_grocery'"),
    new_code_cell(
        "m = runner.run(str(EXP / 'visual_search.yaml'), small, out=str(out))\n"
        "def table(prefix):\n"
        "    rows = {n[len(prefix):]: {'P@1': r['retrieval']['precision_at_1'], 'MAP@R': r['retrieval']['map_at_r'],\n"
        "                              'R@10': r['retrieval']['recall_at_10'],\n"
        "                              'catalogue acc@1 (unseen)': r.get('catalogue_unseen', {}).get('recall_at_1')}\n"
        "            for n, r in m['metrics'].items() if (n.startswith(prefix) if prefix else ':' not in n)}\n"
        "    return pd.DataFrame(rows).T\n"
        "print(m['sizes'])\n"
        "table('')"),
    new_code_cell("table('loss:')"),
    new_code_cell(
        "plot.grouped_bars({n: {'P@1': r['P@1'], 'MAP@R': r['MAP@R']} for n, r in table('').iterrows()},\n"
        "                  'models on unseen classes');"),
    new_markdown_cell("## The pieces on their own: an image set, a pretrained backbone, a query"),
    new_code_cell(
        "size = 64 if SMALL else 128\n"
        "test = data.image_set('grocery', split='test', image_size=size, max_per_class=6 if SMALL else 0)\n"
        "catalogue = data.image_set('grocery', split='iconic', image_size=size)\n"
        "net = train.network(backbone='mobilenet_v2', in_channels=3, embedding_dim=0,\n"
        "                    weights='{pretrained}/mobilenet_v2_1.0_224_quant.tflite')\n"
        "q, c = net.embed(test.images, batch_size=64), net.embed(catalogue.images, batch_size=64)\n"
        "ev.retrieval_metrics(q, test.labels, c, catalogue.labels, k=(1, 5), metrics=['recall_at_k'])"),
    new_code_cell(
        "_, ids = ev.exact_knn(q[:3], c, k=4)\n"
        "pairs = [(i, len(test) + int(j)) for i in range(3) for j in ids[i, :1]]\n"
        "import torch\n"
        "both = torch.cat([test.images, catalogue.images])\n"
        "plot.image_pairs(both, pairs, [f'{test.class_names[int(test.labels[i])]} -> '\n"
        "                                f'{catalogue.class_names[int(catalogue.labels[int(ids[i, 0])])]}' for i in range(3)],\n"
        "                 'shop photo -> nearest catalogue image (frozen ImageNet MobileNetV2)');"),
    new_markdown_cell(
        "Your own photos: `data.image_set('folder', root='my_photos')` (one folder per class) or "
        "`data.image_set('csv', root='list.csv', path_column='file', class_columns=['sku'])`; in a "
        "config, `data.set: folder` and `data.root: my_photos`."),
]

LOCAL = [
    new_markdown_cell(
        "# 05 · Local matching and geometric verification\n\n"
        "A global embedding finds candidates; local features (SIFT, ORB, AKAZE through OpenCV, or a "
        "backbone's feature-map cells) matched between two photos and checked by a homography fitted with "
        "MAGSAC say whether the candidate shows the same printed product. The `local_rerank` study re-ranks "
        "each shop photo's top-K by inliers and reports the gain per product family: printed packages, "
        "where local features should help, and fruit and vegetables, where they should not. "
        "`LOOKALIKE_SMALL=1` shrinks the run (CI); the full run is `make local-rerank` "
        "(`lookalike run experiments/local_rerank.yaml`)."),
    new_code_cell(
        "import os, tempfile\n"
        "from pathlib import Path\n"
        "import pandas as pd\n"
        "import torch\n"
        "from lookalike import data, local, runner\n\n"
        "SMALL = os.environ.get('LOOKALIKE_SMALL') == '1'\n"
        "EXP = Path('..') / 'experiments'\n"
        "small = ['data.max_per_class=2', 'data.image_size=160', 'rerank.top_k=5', 'local.max_features=200',\n"
        "         'global.net.input_size=96', 'examples=2'] if SMALL else []\n"
        "out = Path(tempfile.mkdtemp()) / 'local_rerank' if SMALL else Path('..') / 'results' / 'local_rerank_grocery'"),
    new_code_cell(
        "m = runner.run(str(EXP / 'local_rerank.yaml'), small, out=str(out))\n"
        "def table(name):\n"
        "    res = m['metrics'][name]\n"
        "    return pd.DataFrame({(o, k): {f: res[o][f][k] for f in res[o]} for o in ('global', 'inliers', 'fused')\n"
        "                         for k in ('precision_at_1', 'map_at_r')})\n"
        "print(m['sizes'])\n"
        "table('references')"),
    new_code_cell("table('catalogue')"),
    new_markdown_cell("## One pair by hand: a photo against a rotated, shrunk, shifted copy of itself"),
    new_code_cell(
        "import cv2\n"
        "photo = data.image_set('grocery', split='test', image_size=348, max_per_class=1).images[40]\n"
        "m_true = cv2.getRotationMatrix2D((174, 174), 15, 0.8)  # rotate 15 degrees, scale 0.8\n"
        "m_true[:, 2] += (25, -10)\n"
        "warped = cv2.warpAffine(photo.permute(1, 2, 0).numpy().copy(), m_true, (348, 348), borderValue=(255, 255, 255))\n"
        "a, b = local.extract(torch.stack([photo, torch.from_numpy(warped).permute(2, 0, 1)]), method='sift')\n"
        "v = local.verify(a, b, threshold=3.0)\n"
        "print(len(a), len(b), 'keypoints;', len(v.matches), 'matches,', v.inliers, 'inliers')\n"
        "print('fitted:', (v.transform / v.transform[2, 2])[:2].numpy().round(3))\n"
        "print('true:  ', m_true.round(3))"),
    new_markdown_cell(
        "Save a catalogue's features once with `local.save_features` "
        "and load them for every query with `local.load_features`."),
]


LOCALISE = [
    new_markdown_cell(
        "# 07 · Product-region localisation\n\n"
        "Where in a street photo is the dress? A classifier's class activation map (CAM) answers without any "
        "box in training: a linear probe on the ImageNet MobileNetV2's pooled features learns the garment tags "
        "of clothing-co-parsing's photos; each tag's map, thresholded at a fraction of its range, gives a box. "
        "The `localisation` study scores the boxes against the annotated photos' boxes (GT-known box accuracy "
        "and MaxBoxAcc, IoU >= 0.5) beside the whole photo and a centred box of the tag's mean size. "
        "`LOOKALIKE_SMALL=1` shrinks the run (CI); the full run is `make localisation` "
        "(`lookalike run experiments/localisation_ccp.yaml`)."),
    new_code_cell(
        "import os, tempfile\n"
        "from pathlib import Path\n"
        "import pandas as pd\n"
        "import torch\n"
        "from lookalike import data, localise, runner, train\n\n"
        "SMALL = os.environ.get('LOOKALIKE_SMALL') == '1'\n"
        "EXP = Path('..') / 'experiments'\n"
        "small = ['data.image_size=96', 'max_boxed_photos=40', 'probe.epochs=50', 'examples=3'] if SMALL else []\n"
        "out = Path(tempfile.mkdtemp()) / 'localisation' if SMALL else Path('..') / 'results' / 'localisation_ccp'"),
    new_code_cell(
        "m = runner.run(str(EXP / 'localisation_ccp.yaml'), small, out=str(out))\n"
        "print(m['sizes'], m['classifier']['map_macro'])\n"
        "pd.DataFrame({k: v for k, v in m['overall'].items() if not isinstance(v, list)}, index=['all tags'])"),
    new_code_cell("pd.DataFrame(m['per_tag']).set_index('tag').sort_values('boxes', ascending=False).head(15)"),
    new_markdown_cell("## One photo by hand: maps, boxes and a crop to embed"),
    new_code_cell(
        "s = data.tag_set(image_size=224, min_count=20, exclude=['skin', 'hair'])\n"
        "net = train.network(backbone='mobilenet_v2', weights='{pretrained}/mobilenet_v2_1.0_224_quant.tflite',\n"
        "                    embedding_dim=0, in_channels=3, num_classes=len(s.tags))\n"
        "few = torch.arange(0, len(s), 8 if SMALL else 1)\n"
        "localise.fit_probe(net, localise.pooled_features(net, s.images[few]), s.targets[few], epochs=100)\n"
        "dress = s.tags.index('dress')\n"
        "photo = int((s.targets[:, dress] > 0).nonzero()[0])\n"
        "boxes, maps, _, _ = localise.localise(net, s.images[photo:photo + 1], classes=torch.tensor([dress]),\n"
        "                                      sizes=s.sizes[photo], threshold=0.2)\n"
        "print(s.names[photo], 'dress box', boxes[0].tolist(), 'map', tuple(maps.shape[1:]))\n"
        "# the box in the 224 px image's pixels, cropped and resized for embedding\n"
        "box224 = localise.localise(net, s.images[photo:photo + 1], classes=torch.tensor([dress]))[0]\n"
        "crop = localise.crop(s.images[photo:photo + 1], box224, 224)\n"
        "tuple(crop.shape)"),
    new_markdown_cell(
        "Your own tagged photos: `data.tag_set('csv', root='tags.csv', tags_column='tags', separator='|', "
        "boxes='boxes.csv')`; in a config, `data.set: csv` and `data.root: tags.csv`."),
]


TAGS = [
    new_markdown_cell(
        "# 06 · Style and attribute tags\n\n"
        "A photo gets any number of tags: concrete ones (article type, colour), abstract ones (usage, season) "
        "and pattern words mined from the seller's title. The `tags` study fine-tunes the ImageNet MobileNetV2 "
        "with one output per tag (the C++ Trainer's tag heads: a sigmoid per multi-label tag, a softmax per "
        "exclusive family), BCE vs ASL side by side, pretrained vs scratch, picks each tag's threshold on "
        "validation, draws per-tag learning curves and compares image, title and fused probes per family. "
        "`LOOKALIKE_SMALL=1` shrinks the run (CI); the full runs are `make tags` (clothing-co-parsing) and "
        "`make tags-fashion` (fashion-products)."),
    new_code_cell(
        "import os, tempfile\n"
        "from pathlib import Path\n"
        "import pandas as pd\n"
        "import torch\n"
        "from lookalike import data, runner, tags\n"
        "from lookalike import eval as ev\n\n"
        "SMALL = os.environ.get('LOOKALIKE_SMALL') == '1'\n"
        "EXP = Path('..') / 'experiments'\n"
        "small = ['data.image_size=64', 'max_photos=240', 'train.epochs=1', 'curves.fractions=[0.5]',\n"
        "         'fusion.text.epochs=1', 'fusion.probe.epochs=30', 'examples=4'] if SMALL else []\n"
        "out = Path(tempfile.mkdtemp()) / 'tags' if SMALL else Path('..') / 'results' / 'tags_fashion'"),
    new_code_cell(
        "m = runner.run(str(EXP / 'tags_fashion.yaml'), small, out=str(out))\n"
        "print(m['sizes']['photos'], 'photos,', m['sizes']['tags'], 'tags')\n"
        "cols = ['map_macro', 'map_micro', 'f1_macro', 'f1_micro', 'precision_at_1', 'coverage']\n"
        "pd.DataFrame(m['runs']).T[cols]"),
    new_code_cell("pd.DataFrame({run: r['family_map'] for run, r in m['runs'].items()})"),
    new_code_cell(
        "f = m['fusion']\n"
        "pd.DataFrame({k: f[k]['family_map'] for k in ('image', 'title', 'fused')}).dropna()"),
    new_code_cell(
        "c = m['curves']\n"
        "pd.DataFrame({g: v['map'] for g, v in c['groups'].items()}, index=c['photos'])"),
    new_code_cell("pd.DataFrame(m['per_tag']).set_index('tag').sort_values('train_positives', ascending=False).head(12)"),
    new_markdown_cell(
        "## Your own tags, by hand\n\n"
        "Any CSV with a path column and tags (a `;`-separated column, attribute columns as `column:value`, 0/1 "
        "columns, or words mined from a title column) goes through the same reader. Here: a few catalogue photos "
        "tagged from their titles, trained, thresholds chosen on validation, saved with the model."),
    new_code_cell(
        "s = data.tag_set('fashion_products', image_size=64, tag_columns=['usage'], min_count=30,\n"
        "                 title_words=['solid', 'printed', 'striped'])\n"
        "rows = torch.arange(0, len(s), 20 if SMALL else 4)\n"
        "half = len(rows) // 2\n"
        "r = tags.fit(s.images[rows[:half]], s.targets[rows[:half]], s.tags, exclusive=['usage'],\n"
        "             tag_loss={'name': 'asl'}, backbone='mobilenet_v2',\n"
        "             weights='{pretrained}/mobilenet_v2_1.0_224_quant.tflite', embedding_dim=0,\n"
        "             freeze_stages=-1, epochs=2 if SMALL else 5, progress='off')\n"
        "val = rows[half:]\n"
        "scores = r.tagger.scores(s.images[val])\n"
        "chosen = r.tagger.fit_thresholds(scores, s.targets[val], rule='f1')\n"
        "path = Path(tempfile.mkdtemp()) / 'tagger.pt'\n"
        "r.tagger.save(str(path))\n"
        "again = tags.load(str(path))\n"
        "pd.DataFrame({'threshold': again.thresholds, 'val F1': chosen['f1'], 'mined': s.mined}, index=s.tags)"),
]


def main() -> None:
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nbformat.write(new_notebook(cells=FMNIST, metadata=meta), HERE / "01_fmnist_baseline.ipynb")
    nbformat.write(new_notebook(cells=NOISY, metadata=meta), HERE / "02_noisy_labels.ipynb")
    nbformat.write(new_notebook(cells=DEDUP, metadata=meta), HERE / "03_duplicate_recall_study.ipynb")
    nbformat.write(new_notebook(cells=VISUAL, metadata=meta), HERE / "04_visual_search.ipynb")
    nbformat.write(new_notebook(cells=LOCAL, metadata=meta), HERE / "05_local_matching.ipynb")
    nbformat.write(new_notebook(cells=TAGS, metadata=meta), HERE / "06_style_tags.ipynb")
    nbformat.write(new_notebook(cells=LOCALISE, metadata=meta), HERE / "07_localisation.ipynb")


if __name__ == "__main__":
    main()
