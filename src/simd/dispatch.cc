// Builds one KernelTable per compiled ISA and hands out the one a level asks for.
#include "simd/distance.h"

namespace augurdb::simd {
namespace {

#define AUGUR_TABLE(ns, lvl)                                                              \
  KernelTable{lvl,          &ns::L2Sq,         &ns::Dot,         &ns::NegDot, &ns::CosineDist, \
              &ns::L2Sq4,   &ns::NegDot4,      &ns::CosineDist4, &ns::Sq8Ip,  &ns::Sq8Ipx4, \
              &ns::Sq4Ip,   &ns::Sq4Ipx4,      &ns::SqShift,     &ns::SqScale, &ns::AbsMax,    \
              &ns::SqQuantize}

constexpr KernelTable kScalarTable = AUGUR_TABLE(scalar, SimdLevel::kScalar);
#if defined(AUGURDB_HAVE_AVX2)
constexpr KernelTable kAvx2Table = AUGUR_TABLE(avx2, SimdLevel::kAvx2);
#endif
#if defined(AUGURDB_HAVE_AVX512)
constexpr KernelTable kAvx512Table = AUGUR_TABLE(avx512, SimdLevel::kAvx512);
// The AVX-512 table with the VNNI forms of the quantized kernels.
constexpr KernelTable kAvx512VnniTable = [] {
  KernelTable t = kAvx512Table;
  t.sq8_ip = &avx512vnni::Sq8Ip;
  t.sq8_ipx4 = &avx512vnni::Sq8Ipx4;
  return t;
}();
#endif
#if defined(AUGURDB_HAVE_NEON)
constexpr KernelTable kNeonTable = AUGUR_TABLE(neon, SimdLevel::kNeon);
#endif

#undef AUGUR_TABLE

}  // namespace

const KernelTable* KernelsFor(SimdLevel level) noexcept {
  if (!SimdLevelSupported(level)) return nullptr;
  switch (level) {
    case SimdLevel::kScalar: return &kScalarTable;
#if defined(AUGURDB_HAVE_AVX2)
    case SimdLevel::kAvx2: return &kAvx2Table;
#endif
#if defined(AUGURDB_HAVE_AVX512)
    case SimdLevel::kAvx512: return HasAvx512Vnni() ? &kAvx512VnniTable : &kAvx512Table;
#endif
#if defined(AUGURDB_HAVE_NEON)
    case SimdLevel::kNeon: return &kNeonTable;
#endif
    default: return nullptr;
  }
}

const KernelTable& ActiveKernels() noexcept {
  const KernelTable* table = KernelsFor(ActiveSimdLevel());
  return table != nullptr ? *table : kScalarTable;
}

DistanceFn DistanceFor(const KernelTable& table, Metric metric) noexcept {
  switch (metric) {
    case Metric::kL2: return table.l2sq;
    case Metric::kInnerProduct: return table.neg_dot;
    case Metric::kCosine: return table.cosine_dist;
  }
  return table.l2sq;
}

Distance4Fn Distance4For(const KernelTable& table, Metric metric) noexcept {
  switch (metric) {
    case Metric::kL2: return table.l2sq4;
    case Metric::kInnerProduct: return table.neg_dot4;
    case Metric::kCosine: return table.cosine_dist4;
  }
  return table.l2sq4;
}

}  // namespace augurdb::simd
