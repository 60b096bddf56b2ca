#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "lookalike/models/embed.h"
#include "lookalike/models/pretrained.h"
#include "lookalike/train/trainer.h"
#include "lookalike/util/cpu_cache.h"
#include "options.h"

namespace lookalike::python {

py::tuple fit_releasing_gil(const train::TrainOptions& options, const data::Dataset& train,
                            const data::Dataset& val,
                            const std::function<bool(const util::Record&)>& on_epoch) {
  train::EpochCallback callback;
  if (on_epoch) {
    callback = [&on_epoch](const util::Record& r) {
      py::gil_scoped_acquire acquire;
      return on_epoch(r);
    };
  }
  train::TrainResult result;
  {
    py::gil_scoped_release release;
    result = train::Trainer(options).fit(train, val, callback);
  }
  return py::make_tuple(result.model, result.history);
}

void bind_train(py::module_& m) {
  using namespace lookalike::train;
  using lookalike::models::Net;
  using lookalike::models::NetOptions;
  auto t = m.def_submodule("train", "models and the training loop");

  bind_options<NetOptions>(t, "NetOptions", "the network's options (backbone, head, weights)");
  bind_options<noisy::FilterOptions>(t, "FilterOptions", "the noisy-label filter's options");
  auto train_options = bind_options<TrainOptions>(t, "TrainOptions", "the training loop's options");
  bind_flat_options(train_options);
  train_options.def("validate", [](const TrainOptions& o) { validate(o); })
      .def("to_json", [](const TrainOptions& o) { return to_json(o); });

  t.def("backbones", &models::backbones, "the registered backbone names, sorted");
  t.def("weights_format", &models::weights_format, py::arg("path"),
        "the format of a weights file by its first bytes: tflite, keras_h5, state_dict or ''");
  py::class_<Net>(t, "Net")
      .def(py::init([](const NetOptions& o) { return models::make_net(o); }), py::arg("options"),
           py::call_guard<py::gil_scoped_release>())
      .def(
          "load_pretrained",
          [](Net& self, const std::string& path) {
            auto r = models::load_pretrained(*self, path);
            py::dict d;
            d["format"] = r.format;
            d["tensors_loaded"] = r.tensors_loaded;
            d["skipped"] = r.skipped;
            return d;
          },
          py::arg("path"))
      .def(
          "feature_map",
          [](Net& self, const torch::Tensor& images) {
            // as models::infer: inference mode, and the CPU allocator keeps the large activation
            // blocks between batches (without it this call ran 2.5x slower than embed)
            const util::CpuCacheScope cache;
            const c10::InferenceMode inference;
            const bool was = self->is_training();
            self->eval();
            auto x = images.scalar_type() == torch::kUInt8 ? images.to(torch::kFloat).div(255.0)
                                                           : images;
            auto out = self->feature_map(x);
            self->train(was);
            return out;
          },
          py::arg("images"), py::call_guard<py::gil_scoped_release>())
      .def("backbone_info",
           [](Net& self) {
             const auto& i = self->backbone().info();
             py::dict d;
             d["channels"] = i.channels, d["stride"] = i.stride, d["min_input"] = i.min_input;
             d["input_size"] = i.input_size, d["stages"] = i.stages;
             d["mean"] = i.mean, d["std"] = i.std;
             return d;
           })
      .def("options_json", [](Net& self) { return to_json(self->options()); })
      .def(
          "infer",
          [](Net& self, const torch::Tensor& images, int64_t batch_size, const std::string& device,
             bool with_logits) {
            auto out = models::infer(self, images, batch_size, device, with_logits);
            return std::make_tuple(out.embeddings, out.logits);
          },
          py::arg("images"), py::arg("batch_size") = 1024, py::arg("device") = "cpu",
          py::arg("with_logits") = false, py::call_guard<py::gil_scoped_release>())
      .def("state_dict",
           [](Net& self) {
             py::dict d;
             for (const auto& p : self->named_parameters())
               d[py::str(p.key())] = p.value().detach();
             for (const auto& b : self->named_buffers()) d[py::str(b.key())] = b.value();
             return d;
           })
      .def(
          "save", [](Net& self, const std::string& path) { save_model(self, path); },
          py::arg("path"), py::call_guard<py::gil_scoped_release>())
      .def("num_parameters", [](Net& self) {
        int64_t n = 0;
        for (const auto& p : self->parameters()) n += p.numel();
        return n;
      });
  t.def("load_model", &load_model, py::arg("path"), py::call_guard<py::gil_scoped_release>());

  t.def(
      "fit",
      [](const torch::Tensor& images, const torch::Tensor& labels,
         std::optional<torch::Tensor> val_images, std::optional<torch::Tensor> val_labels,
         const TrainOptions& options, std::function<bool(const util::Record&)> on_epoch,
         std::optional<torch::Tensor> clean_labels) {
        data::Dataset train{images, labels, clean_labels.value_or(torch::Tensor())};
        data::Dataset val;
        if (val_images) val = {*val_images, val_labels.value_or(torch::Tensor())};
        return fit_releasing_gil(options, train, val, on_epoch);
      },
      py::arg("images"), py::arg("labels"), py::arg("val_images") = py::none(),
      py::arg("val_labels") = py::none(), py::arg("options") = TrainOptions(),
      py::arg("on_epoch") = nullptr, py::arg("clean_labels") = py::none());
  t.def(
      "evaluate",
      [](Net& model, const torch::Tensor& images, const torch::Tensor& labels, int64_t batch_size,
         const std::string& device) {
        return evaluate(model, {images, labels}, batch_size, device);
      },
      py::arg("model"), py::arg("images"), py::arg("labels"), py::arg("batch_size") = 1024,
      py::arg("device") = "cpu", py::call_guard<py::gil_scoped_release>());
}

}  // namespace lookalike::python
