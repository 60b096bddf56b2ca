"""Options declared once in C++: the binding, the keyword helper and the config defaults all come
from the struct's one field list."""
import numpy as np
import pytest

import lookalike
from lookalike import _core, config, options, runner, train

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_make_sets_fields_and_rejects_unknown_names_and_wrong_types():
    o = options.make(_core.dedup.Bm25Options, {"k1": 1.5}, language="none")
    assert (o.k1, o.b, o.language) == (1.5, 0.75, "none")
    with pytest.raises(ValueError, match=r"unknown option 'bm25.k_1' \(Bm25Options\); known: k1, b, language"):
        options.make(_core.dedup.Bm25Options, {"k_1": 1.5}, where="bm25")
    with pytest.raises(ValueError, match="option 'k1' must be a number, got \"high\""):
        options.make(_core.dedup.Bm25Options, k1="high")
    with pytest.raises(ValueError, match="option 'limit' must be an integer, got 2.5"):
        options.make(_core.dedup.ListingsOptions, limit=2.5)
    # NumPy scalars are the numbers they hold.
    assert options.make(_core.dedup.ListingsOptions, limit=np.int64(7)).limit == 7


def test_nested_structs_update_in_place_and_compare_by_value():
    o = options.make(_core.index.ClusterOptions, k=5, params={"nprobe": 3})
    assert (o.k, o.params.nprobe, o.params.ef_search) == (5, 3, 0)
    o.params.ef_search = 9  # attribute of the nested struct, not a copy
    assert o.to_dict()["params"] == {"nprobe": 3, "ef_search": 9}
    assert o == options.make(_core.index.ClusterOptions, o.to_dict())
    assert _core.index.ClusterOptions.fields() == ["metric", "k", "spec", "params", "query_tile"]


def test_training_defaults_are_the_core_struct_defaults():
    d = train.default_options()
    core = _core.train.TrainOptions()
    assert d["lr"] == core.lr and d["channels"] == list(core.model.channels) and d["filter"] == core.filter.filter
    # Every field of the five structs appears once in the flat form.
    names = [n for n in _core.train.TrainOptions.fields() if n not in ("model", "filter", "metric", "tags")]
    names += _core.train.NetOptions.fields() + _core.train.FilterOptions.fields()
    names += _core.metric.MetricOptions.fields() + _core.train.TagHeadOptions.fields()
    assert sorted(d) == sorted(names)
    o = train.make_options(epochs=3, channels=[4, 8], filter="coteaching", forget_rate=0.4)
    assert (o.epochs, list(o.model.channels), o.filter.filter, o.filter.forget_rate) == (3, [4, 8], "coteaching", 0.4)


def test_model_in_channels_that_contradict_the_images_are_an_error():
    x = (lookalike.data.fashion_mnist("test")[0][:64])
    y = lookalike.data.fashion_mnist("test")[1][:64]
    with pytest.raises(ValueError, match="model.in_channels = 3 but the images have 1 channels"):
        lookalike.fit(x, y, epochs=1, in_channels=3, progress="off")


def test_an_option_the_named_set_ignores_is_an_error():
    cfg = str(ROOT / "experiments" / "dedup_shopee.yaml")
    with pytest.raises(config.ConfigError, match="'data.path' = 'my_listings.csv' does not apply here: .*data.set is "
                                                 "listings"):
        runner.resolve(cfg, ["data.path=my_listings.csv"])
    with pytest.raises(config.ConfigError, match="'data.relist' .* data.set is fashion_products"):
        runner.resolve(cfg, ["data.relist.originals=5"])
    with pytest.raises(config.ConfigError, match="'data.root' .* data.set names a shared set"):
        runner.resolve(cfg, ["data.set=listings", "data.path=x.csv", "data.root=/tmp"])
    with pytest.raises(config.ConfigError, match="'matcher.l2' .* no matcher.from"):
        runner.resolve(cfg, ["matcher.from=m.json", "matcher.l2=3"])
    # The same keys are fine where they apply.
    assert runner.resolve(cfg, ["data.set=listings", "data.path=x.csv", "data.title_col=name"])["data"]["path"] == "x.csv"


def test_noisy_study_rejects_product_options_on_fashion_mnist():
    cfg = str(ROOT / "experiments" / "noisy_fmnist.yaml")
    with pytest.raises(config.ConfigError, match="'data.top_classes' .* data.dataset is products"):
        runner.resolve(cfg, ["data.top_classes=5"])


def test_filter_names_come_from_the_registry():
    assert lookalike.noisy.filters() == list(_core.noisy.filters())
    assert {"none", "coteaching", "jocor", "confident_learning"} <= set(lookalike.noisy.filters())
    with pytest.raises(ValueError, match="filter must be one of confident_learning, coteaching, coteaching_plus"):
        train.make_options(filter="mentor_net")
