// Value (include/augurdb/value.h): the metadata value type. Defined here, in the lowest layer
// that reads it, so that filter/ depends on nothing above it; db/ and bindings/ use it from here.
#include <augurdb/value.h>

namespace augurdb {

size_t Value::MemoryBytes() const {
  size_t bytes = sizeof(Value);
  if (is_string()) {
    const std::string& s = as_string();
    if (s.capacity() > 15) bytes += s.capacity() + 1;  // beyond the small-string buffer
  } else if (is_list()) {
    for (const Value& v : as_list()) bytes += v.MemoryBytes();
  }
  return bytes;
}

}  // namespace augurdb
