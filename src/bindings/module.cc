// augurdb._core: the private extension module behind the augurdb package.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <string>
#include <vector>

#include <augurdb/collection.h>
#include <augurdb/status.h>

#include "bindings/convert.h"
#include "text/tokenizer.h"

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
  // The tokens a collection with this tokenizer indexes for `text` (tests feed them to an
  // external BM25 oracle; tools can show what a query matches on).
  m.def(
      "tokenize",
      [](const std::string& text, const std::string& tokenizer) {
        const text::TokenizerKind kind =
            bindings::ValueOrThrow(text::ParseTokenizerKind(tokenizer));
        std::vector<std::string> tokens;
        {
          nb::gil_scoped_release release;
          bindings::ThrowIfError(text::Tokenizer(kind).Tokenize(text, &tokens));
        }
        return tokens;
      },
      nb::arg("text"), nb::arg("tokenizer") = "simple");
  bindings::BindCollection(m);
}
