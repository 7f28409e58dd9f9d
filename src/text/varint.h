// LEB128 varints for the postings blocks and the checkpoint image (7 bits a byte, low first, at
// most 5 bytes for 32 bits). Only the writer is shared: the block decoder trusts bytes this
// process wrote, while the image reader bounds every read (inverted_index_image.cc).
#pragma once

#include <cstdint>
#include <string>

namespace augurdb::text {

inline void PutVarint32(std::string* dst, uint32_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

}  // namespace augurdb::text
