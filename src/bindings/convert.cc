#include "bindings/convert.h"

#include <nanobind/stl/string.h>

#include <string>

namespace augurdb::bindings {
namespace {

// Tuple indexed by StatusCode. One reference is leaked on purpose: a static nb::object would be
// released after interpreter shutdown, without the GIL.
nb::handle g_error_classes;

[[noreturn]] void BadMetadata(size_t row, const std::string& key, const std::string& why) {
  throw StatusError{Status::InvalidArgument("metadata row " + std::to_string(row) + " key '" +
                                            key + "': " + why)};
}

Value ScalarFromPython(nb::handle v, size_t row, const std::string& key, bool in_list) {
  if (v.is_none()) return Value();
  if (PyBool_Check(v.ptr())) return Value(v.ptr() == Py_True);
  if (PyLong_Check(v.ptr())) {
    int overflow = 0;
    const long long x = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
    if (overflow != 0) BadMetadata(row, key, "integer does not fit in 64 bits");
    return Value(static_cast<int64_t>(x));
  }
  if (PyFloat_Check(v.ptr())) return Value(PyFloat_AsDouble(v.ptr()));
  if (PyUnicode_Check(v.ptr())) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(v.ptr(), &size);
    if (data == nullptr) {
      PyErr_Clear();
      BadMetadata(row, key, "string is not valid Unicode (lone surrogate?)");
    }
    return Value(std::string(data, static_cast<size_t>(size)));
  }
  if (!in_list && (PyList_Check(v.ptr()) || PyTuple_Check(v.ptr()))) {
    Value::List list;
    for (nb::handle item : v) list.push_back(ScalarFromPython(item, row, key, true));
    return Value(std::move(list));
  }
  if (PyDict_Check(v.ptr())) BadMetadata(row, key, "nested dicts are not supported");
  const std::string type = nb::type_name(v.type()).c_str();
  BadMetadata(row, key, (in_list ? "list items must be str, int, float, bool or None, not "
                                 : "values must be str, int, float, bool, None or a list, not ") +
                            type);
}

nb::object ValueToPython(const Value& v) {
  if (v.is_null()) return nb::none();
  if (v.is_bool()) return nb::bool_(v.as_bool());
  if (v.is_int()) return nb::int_(v.as_int());
  if (v.is_double()) return nb::float_(v.as_double());
  if (v.is_string()) return nb::str(v.as_string().data(), v.as_string().size());
  nb::list out;
  for (const Value& item : v.as_list()) out.append(ValueToPython(item));
  return out;
}

}  // namespace

void RegisterErrorTranslator(nb::module_& m) {
  nb::module_ errors = nb::module_::import_("augurdb.errors");
  g_error_classes = errors.attr("_classes_by_code")().release();
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const StatusError& e) {
      const size_t code = static_cast<size_t>(e.status.code());
      nb::handle cls = code < nb::len(g_error_classes) ? g_error_classes[code] : nb::handle();
      if (!cls.is_valid() || cls.is_none()) cls = PyExc_RuntimeError;
      PyErr_SetString(cls.ptr(), e.status.message().c_str());
    }
  });
}

Metadata MetadataFromPython(nb::handle obj, size_t row) {
  if (obj.is_none()) return Metadata{};
  if (!PyDict_Check(obj.ptr())) {
    throw StatusError{Status::InvalidArgument("metadata row " + std::to_string(row) +
                                              " must be a dict or None, not " +
                                              nb::type_name(obj.type()).c_str())};
  }
  Metadata out;
  for (auto [k, v] : nb::borrow<nb::dict>(obj)) {
    if (!PyUnicode_Check(k.ptr())) {
      throw StatusError{Status::InvalidArgument("metadata row " + std::to_string(row) +
                                                ": keys must be str")};
    }
    std::string key = nb::cast<std::string>(k);
    out.emplace(key, ScalarFromPython(v, row, key, false));
  }
  return out;
}

nb::dict MetadataToPython(const Metadata& metadata) {
  nb::dict out;
  for (const auto& [key, value] : metadata) out[nb::str(key.data(), key.size())] = ValueToPython(value);
  return out;
}

nb::object IdToPython(const Id& id) {
  if (const int64_t* i = std::get_if<int64_t>(&id)) return nb::int_(*i);
  const std::string& s = std::get<std::string>(id);
  return nb::str(s.data(), s.size());
}

}  // namespace augurdb::bindings
