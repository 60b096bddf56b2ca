#pragma once
// One binding file per area; module.cpp calls each.
#include <torch/extension.h>

namespace py = pybind11;

#include <functional>

#include "lookalike/train/trainer.h"

namespace lookalike::python {

/// Trainer(options).fit(train, val) with the GIL released, on_epoch (may be empty) called with it
/// held; (model, history).
py::tuple fit_releasing_gil(const train::TrainOptions& options, const data::Dataset& train,
                            const data::Dataset& val,
                            const std::function<bool(const util::Record&)>& on_epoch);
void bind_data(py::module_& m);
void bind_metric(py::module_& m);  // before bind_train: TrainOptions nests MetricOptions
void bind_train(py::module_& m);
void bind_tags(py::module_& m);      // after bind_train: adds to lookalike._core.train, uses Net
void bind_local(py::module_& m);     // after bind_train: LocalOptions nests NetOptions
void bind_localise(py::module_& m);  // after bind_train: uses Net
void bind_eval(py::module_& m);
void bind_tags(py::module_& m);  // after bind_eval: adds to lookalike._core.train, uses Net
void bind_index(py::module_& m);
void bind_noisy(py::module_& m);
void bind_dedup(py::module_& m);
void bind_dedup_pairs(py::module_& m);  // after bind_dedup: adds to lookalike._core.dedup
void bind_dedup_study(py::module_& m);  // after bind_dedup
void bind_dist(py::module_& m);
}  // namespace lookalike::python
