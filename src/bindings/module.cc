// augurdb._core: the private extension module behind the augurdb package.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include <augurdb/collection.h>
#include <augurdb/status.h>

#include "bindings/convert.h"

namespace augurdb::bindings {
void BindCollection(nb::module_& m);
}  // namespace augurdb::bindings

NB_MODULE(_core, m) {
  namespace nb = nanobind;
  using namespace augurdb;
  m.doc() = "AugurDB engine (private: use the augurdb package)";
  bindings::RegisterErrorTranslator(m);
  m.def("build_info", [] {
    const BuildInfo info = GetBuildInfo();
    nb::dict d;
    d["version"] = info.version;
    d["compiler"] = info.compiler;
    d["simd"] = info.simd;
    d["simd_detected"] = info.simd_detected;
    return d;
  });
  m.def("status_code_names", [] {
    nb::list names;
    for (int c = 0; c <= static_cast<int>(StatusCode::kInvalidFilter); ++c) {
      names.append(std::string(StatusCodeName(static_cast<StatusCode>(c))));
    }
    return names;
  });
  bindings::BindCollection(m);
}
