// Conversions between Python objects and engine types, and Status -> Python exception.
// Everything here runs with the GIL held.
#pragma once

#include <nanobind/nanobind.h>

#include <augurdb/collection.h>
#include <augurdb/status.h>
#include <augurdb/value.h>

namespace augurdb::bindings {

namespace nb = nanobind;

// Thrown by ThrowIfError and translated by the handler registered in module.cc into the
// augurdb.errors class for its code, message unchanged.
struct StatusError {
  Status status;
};

inline void ThrowIfError(Status status) {
  if (!status.ok()) throw StatusError{std::move(status)};
}

template <typename T>
T ValueOrThrow(Result<T>&& result) {
  if (!result.ok()) throw StatusError{std::move(result).status()};
  return std::move(result).value();
}

// Registers the StatusError translator. Imports augurdb.errors once.
void RegisterErrorTranslator(nb::module_& m);

// dict[str, scalar | list[scalar]] -> Metadata. `row` names the batch row in errors.
Metadata MetadataFromPython(nb::handle obj, size_t row);
nb::dict MetadataToPython(const Metadata& metadata);
nb::object IdToPython(const Id& id);

}  // namespace augurdb::bindings
