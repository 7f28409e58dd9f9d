#include "index/vector_store.h"

#include <algorithm>
#include <utility>

namespace augurdb::index {

VectorStore::VectorStore(size_t dim) : dim_(dim), stride_((dim + 15) / 16 * 16) {}

void VectorStore::Remap(float* rows, size_t end, size_t capacity, std::shared_ptr<void> owner) {
  AlignedBuffer<float> tail;
  tail.Resize((capacity - end) * stride_);  // may throw: nothing changed yet
  mapped_ = rows;
  mapped_rows_ = end;
  mapped_owner_ = std::move(owner);
  memory_ = std::move(tail);
}

void VectorStore::Adopt(float* rows, size_t end, bool on_disk, std::shared_ptr<void> owner) {
  if (end == 0) return;
  if (on_disk) {
    mapped_ = rows;
    mapped_rows_ = end;
    mapped_owner_ = std::move(owner);
  } else {
    memory_.Adopt(rows, end * stride_, std::move(owner));
  }
}

void VectorStore::Export(size_t end, std::span<char>* head, std::span<char>* tail) const {
  auto bytes = [](const float* p, size_t rows, size_t stride) {
    return std::span<char>(reinterpret_cast<char*>(const_cast<float*>(p)),
                           rows * stride * sizeof(float));
  };
  if (mapped_rows_ == 0) {
    *head = bytes(memory_.data(), end, stride_);
    *tail = {};
    return;
  }
  const size_t mapped = std::min(end, mapped_rows_);
  *head = bytes(mapped_, mapped, stride_);
  *tail = bytes(memory_.data(), end - mapped, stride_);
}

}  // namespace augurdb::index
