#include "quant/code_store.h"

#include <algorithm>
#include <utility>

namespace augurdb::quant {

CodeStore::CodeStore(size_t dim, Metric metric, Quantization quantization,
                     const simd::KernelTable& kernels)
    : metric_(metric),
      sq_(dim, quantization == Quantization::kSq4 ? 4 : 8, kernels),
      ip_(quantization == Quantization::kSq4 ? kernels.sq4_ip : kernels.sq8_ip),
      ipx4_(quantization == Quantization::kSq4 ? kernels.sq4_ipx4 : kernels.sq8_ipx4) {}

void CodeStore::Encode(uint32_t slot, const float* vector) {
  uint8_t* code = codes_.data() + static_cast<size_t>(slot) * sq_.code_stride();
  sq_.Encode(vector, code);
  if (metric_ == Metric::kL2) norms_[slot] = sq_.CodeNorm(code);
}

SqDistance CodeStore::Distance(const float* query, AlignedBuffer<int16_t>& prepared) const {
  prepared.Resize(sq_.query_dim());
  const bool l2 = metric_ == Metric::kL2;
  ScalarQuantizer::PreparedQuery prep =
      l2 ? sq_.PrepareL2(query, prepared.data()) : sq_.PrepareDot(query, prepared.data());
  if (!l2) {  // distance = -dot (inner product) or 1 - dot (cosine)
    prep.bias = (metric_ == Metric::kCosine ? 1.0f : 0.0f) - prep.bias;
    prep.gain = -prep.gain;
  }
  return SqDistance{prepared.data(), codes_.data(), l2 ? norms_.data() : nullptr,
                    sq_.code_stride(), sq_.query_dim(), prep.bias, prep.gain, ip_, ipx4_,
                    std::min(sq_.code_stride() / 64, SqDistance::kMaxPrefetchLines)};
}

void CodeStore::GrowTo(size_t capacity) {
  codes_.Resize(capacity * sq_.code_stride());
  if (metric_ == Metric::kL2) norms_.Resize(capacity);
}

std::span<char> CodeStore::ExportCodes(size_t end) const {
  if (!sq_.fitted()) return {};
  return std::span<char>(reinterpret_cast<char*>(const_cast<uint8_t*>(codes_.data())),
                         end * sq_.code_stride());
}

void CodeStore::ExportQuantizer(std::string* out) const {
  out->clear();
  if (!sq_.fitted()) return;
  out->resize(sq_.serialized_bytes());
  sq_.Serialize(out->data());
}

Status CodeStore::Restore(std::span<const char> quantizer, std::span<char> codes, size_t end,
                          std::shared_ptr<void> owner) {
  if (Status q = sq_.Restore(quantizer); !q.ok()) return Status::Corruption(q.message());
  if (codes.size() != end * sq_.code_stride()) {
    return Status::Corruption("code array has the wrong size");
  }
  if (end > 0) {
    codes_.Adopt(reinterpret_cast<uint8_t*>(codes.data()), codes.size(), std::move(owner));
  }
  if (metric_ == Metric::kL2) {  // derived from the codes, so never stored
    norms_.Resize(end);
    for (size_t i = 0; i < end; ++i) {
      norms_[i] = sq_.CodeNorm(codes_.data() + i * sq_.code_stride());
    }
  }
  return Status::OK();
}

}  // namespace augurdb::quant
