// lookalike._core: the C++ core seen from Python. Tensors cross without copies (torch's
// caster); every long call releases the GIL.
#include "bindings.h"
#include "lookalike/data/image_io.h"
#include "lookalike/dedup/bm25.h"
#include "lookalike/dist/world.h"
#include "lookalike/error.h"
#include "lookalike/index/knn.h"
#include "lookalike/util/cpu_cache.h"
#include "lookalike/util/device.h"
#include "lookalike/util/files.h"
#include "lookalike/util/threads.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "lookalike C++ core (private; use the lookalike package)";
  // Translators are tried newest first: the specific ones are registered after the base.
  static py::exception<lookalike::Error> error(m, "Error", PyExc_RuntimeError);
  static py::exception<lookalike::InvalidArgument> invalid(m, "InvalidArgument", PyExc_ValueError);
  static py::exception<lookalike::FileError> file_error(m, "FileError", PyExc_OSError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const lookalike::InvalidArgument& e) {
      invalid(e.what());
    } catch (const lookalike::FileError& e) {
      file_error(e.what());
    } catch (const lookalike::Error& e) {
      error(e.what());
    }
  });
  m.attr("__version__") = LOOKALIKE_VERSION;
  m.def("set_threads", &lookalike::util::set_threads, py::arg("threads") = 0,
        "Sets torch, OpenMP (FAISS) and OpenBLAS to one thread count (<= 0: all cores).");
  m.def("get_threads", &lookalike::util::get_threads);
  m.def("set_cpu_cache", &lookalike::util::set_cpu_cache, py::arg("on"),
        "Turns lookalike's caching CPU allocator on or off; returns the previous setting.");
  m.def("cpu_cache_stats", [] {
    const auto s = lookalike::util::cpu_cache_stats();
    py::dict d;
    d["hits"] = s.hits, d["misses"] = s.misses, d["cached_bytes"] = s.cached_bytes;
    return d;
  });
  m.def(
      "write_file_atomic",
      [](const std::string& path, const py::bytes& content) {
        std::string bytes = content;
        py::gil_scoped_release release;
        lookalike::util::write_file_atomic(path, bytes);
      },
      py::arg("path"), py::arg("content"),
      "Writes bytes to path through a temporary file and a rename (never half-written).");
  m.def("build_info", [] {
    py::dict d;
    d["version"] = LOOKALIKE_VERSION;
    d["torch"] = TORCH_VERSION;
    d["faiss"] = lookalike::index::have_faiss();
    d["opencv"] = lookalike::data::have_image_io();
    d["xapian"] = lookalike::dedup::have_xapian();
    d["gloo"] = lookalike::dist::have_gloo();
#ifdef LOOKALIKE_HAVE_CUDA
    d["cuda_build"] = true;
#else
    d["cuda_build"] = false;
#endif
    d["cuda_available"] = lookalike::util::cuda_available();
    py::list degraded;  // deliberately slowed test builds (CMake LOOKALIKE_DEGRADE_*)
#ifdef LOOKALIKE_DEGRADE_KNN_TILE
    degraded.append("knn_tile");
#endif
    d["degraded"] = degraded;
    return d;
  });
  lookalike::python::bind_data(m);
  lookalike::python::bind_metric(m);
  lookalike::python::bind_train(m);
  lookalike::python::bind_local(m);
  lookalike::python::bind_localise(m);
  lookalike::python::bind_eval(m);
  lookalike::python::bind_tags(m);
  lookalike::python::bind_index(m);
  lookalike::python::bind_noisy(m);
  lookalike::python::bind_dedup(m);
  lookalike::python::bind_dedup_pairs(m);
  lookalike::python::bind_dedup_study(m);
  lookalike::python::bind_dist(m);
}
