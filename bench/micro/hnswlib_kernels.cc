// hnswlib's fp32 distance kernels behind plain functions, for distance_bench only.
//
// Compiled twice (bench/micro/CMakeLists.txt): with AUGUR_HNSW_ISA=avx2 and the flags of
// src/simd/distance_avx2.cc, and with AUGUR_HNSW_ISA=avx512 and the flags of
// src/simd/distance_avx512.cc. hnswlib picks its kernels from compiler macros (__AVX__ ->
// USE_AVX, __AVX512F__ -> USE_AVX512), so the flags alone decide which kernel each copy holds.
//
// hnswlib.h defines non-inline functions and globals (cpuid, AVXCapable, L2SqrSIMD16Ext, ...) and
// the two copies compile different bodies for the same inline members (L2Space's constructor), so
// each copy renames them with a per-ISA suffix; otherwise the linker would merge or reject them.
//
// Exposes, with <isa> = avx2 | avx512:
//   float HnswlibL2Sq_<isa>(const float* a, const float* b, size_t dim) noexcept;
//   float HnswlibIpDist_<isa>(const float* a, const float* b, size_t dim) noexcept;  // 1 - dot
//   bool HnswlibPrepare_<isa>(size_t dim);
// HnswlibPrepare_<isa> must run (once, on a CPU that has <isa>) before the kernels: it constructs
// hnswlib's L2Space and InnerProductSpace, which is how hnswlib points its residual helpers at
// the chosen kernel, and returns whether our selection below matches theirs for `dim`.
#include <cpuid.h>
#include <x86intrin.h>

#include <cstddef>

#if !defined(AUGUR_HNSW_ISA)
#error "compile with -DAUGUR_HNSW_ISA=avx2 or avx512 (see bench/micro/CMakeLists.txt)"
#endif

#define AUGUR_CAT2(a, b) a##b
#define AUGUR_CAT(a, b) AUGUR_CAT2(a, b)
#define AUGUR_SUFFIXED(name) AUGUR_CAT(name, AUGUR_CAT(_, AUGUR_HNSW_ISA))

#define cpuid AUGUR_SUFFIXED(hnsw_cpuid)
#define xgetbv AUGUR_SUFFIXED(hnsw_xgetbv)
#define AVXCapable AUGUR_SUFFIXED(HnswAVXCapable)
#define AVX512Capable AUGUR_SUFFIXED(HnswAVX512Capable)
#define L2SqrSIMD16Ext AUGUR_SUFFIXED(HnswL2SqrSIMD16Ext)
#define InnerProductSIMD16Ext AUGUR_SUFFIXED(HnswInnerProductSIMD16Ext)
#define InnerProductSIMD4Ext AUGUR_SUFFIXED(HnswInnerProductSIMD4Ext)
#define InnerProductDistanceSIMD16Ext AUGUR_SUFFIXED(HnswInnerProductDistanceSIMD16Ext)
#define InnerProductDistanceSIMD4Ext AUGUR_SUFFIXED(HnswInnerProductDistanceSIMD4Ext)
#define L2Space AUGUR_SUFFIXED(HnswL2Space)
#define InnerProductSpace AUGUR_SUFFIXED(HnswInnerProductSpace)

#include <hnswlib/hnswlib.h>

#if !defined(USE_AVX)
#error "hnswlib did not enable USE_AVX: the ISA flags did not reach this file"
#endif

namespace {

using hnswlib::DISTFUNC;

// The widest 16-float kernels hnswlib has under this file's flags (what its spaces pick on a CPU
// that has the ISA).
#if defined(USE_AVX512)
constexpr DISTFUNC<float> kL2Simd16 = hnswlib::L2SqrSIMD16ExtAVX512;
constexpr DISTFUNC<float> kIpSimd16 = hnswlib::InnerProductDistanceSIMD16ExtAVX512;
#else
constexpr DISTFUNC<float> kL2Simd16 = hnswlib::L2SqrSIMD16ExtAVX;
constexpr DISTFUNC<float> kIpSimd16 = hnswlib::InnerProductDistanceSIMD16ExtAVX;
#endif

// The kernel hnswlib's L2Space(dim) selects (space_l2.h). Inlined into the wrappers below, so
// hnswlib pays one indirect call per distance (the benchmark's), as in its own search loop.
inline DISTFUNC<float> PickL2(size_t dim) noexcept {
  if (dim % 16 == 0) return kL2Simd16;
  if (dim % 4 == 0) return hnswlib::L2SqrSIMD4Ext;  // SSE in every hnswlib build
  if (dim > 16) return hnswlib::L2SqrSIMD16ExtResiduals;
  if (dim > 4) return hnswlib::L2SqrSIMD4ExtResiduals;
  return hnswlib::L2Sqr;
}

// The kernel hnswlib's InnerProductSpace(dim) selects (space_ip.h): 1 - dot.
inline DISTFUNC<float> PickIp(size_t dim) noexcept {
  if (dim % 16 == 0) return kIpSimd16;
  if (dim % 4 == 0) return hnswlib::InnerProductDistanceSIMD4ExtAVX;
  if (dim > 16) return hnswlib::InnerProductDistanceSIMD16ExtResiduals;
  if (dim > 4) return hnswlib::InnerProductDistanceSIMD4ExtResiduals;
  return hnswlib::InnerProductDistance;
}

}  // namespace

float AUGUR_SUFFIXED(HnswlibL2Sq)(const float* a, const float* b, size_t dim) noexcept {
  // Spelled out so each branch is a direct (inlinable) call rather than a second indirect one.
  if (dim % 16 == 0) return kL2Simd16(a, b, &dim);
  if (dim % 4 == 0) return hnswlib::L2SqrSIMD4Ext(a, b, &dim);
  return PickL2(dim)(a, b, &dim);
}

float AUGUR_SUFFIXED(HnswlibIpDist)(const float* a, const float* b, size_t dim) noexcept {
  if (dim % 16 == 0) return kIpSimd16(a, b, &dim);
  if (dim % 4 == 0) return hnswlib::InnerProductDistanceSIMD4ExtAVX(a, b, &dim);
  return PickIp(dim)(a, b, &dim);
}

bool AUGUR_SUFFIXED(HnswlibPrepare)(size_t dim) {
  hnswlib::L2Space l2(dim);
  hnswlib::InnerProductSpace ip(dim);
  return l2.get_dist_func() == PickL2(dim) && ip.get_dist_func() == PickIp(dim);
}
