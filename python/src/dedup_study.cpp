#include <pybind11/stl.h>

#include "bindings.h"
#include "lookalike/dedup/recall_study.h"
#include "options.h"

namespace lookalike::python {

// The duplicate recall study's loop (C++ end to end); the Python study adds the data loading,
// the plots and the report text.
void bind_dedup_study(py::module_& m) {
  using namespace lookalike::dedup;
  auto x = m.attr("dedup").cast<py::module_>();
  bind_options<StudySplitOptions>(x, "StudySplitOptions", "the recall study's split");
  bind_options<StudyMatcherOptions>(x, "StudyMatcherOptions", "the recall study's matcher");
  bind_options<StudyClusteringOptions>(x, "StudyClusteringOptions",
                                       "the recall study's clustering");
  bind_options<StudyReportOptions>(x, "StudyReportOptions", "the recall study's examples");
  bind_options<RecallStudyOptions>(x, "RecallStudyOptions", "the duplicate recall study");
  x.def(
      "run_recall_study",
      [](const Listings& items, const std::optional<torch::Tensor>& groups,
         const RecallStudyOptions& options, const py::dict& pipeline_options,
         const std::string& matcher_path) {
        const auto pipes = to_json_value(pipeline_options, "pipeline options");
        RecallStudyResult r;
        {
          py::gil_scoped_release release;
          r = run_recall_study(items, groups.value_or(torch::Tensor()), options, pipes,
                               matcher_path);
        }
        return py::dict(py::arg("report") = from_json_value(r.report),
                        py::arg("panels") = from_json_value(r.panels),
                        py::arg("timings") = r.timings);
      },
      py::arg("items"), py::arg("groups"), py::arg("options"), py::arg("pipeline_options"),
      py::arg("matcher_path") = "",
      "{report, panels, timings} of one run of the recall study (dedup/recall_study.h)");
}

}  // namespace lookalike::python
