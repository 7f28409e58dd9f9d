// Hybrid fusion: RRF and weighted min-max, exactly as include/augurdb/collection.h defines them.
#include "db/fusion.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace augurdb::db {
namespace {

TEST(FusionTest, RrfSumsReciprocalRanks) {
  const std::vector<VectorCandidate> v = {{10, 0.1f}, {11, 0.2f}, {12, 0.3f}};
  const std::vector<TextCandidate> t = {{12, 5.0}, {13, 4.0}};
  SearchOptions o;
  o.rrf_k = 60;
  std::vector<FusedHit> hits = Fuse(v, t, o);
  ASSERT_EQ(hits.size(), 4u);
  EXPECT_EQ(hits[0].slot, 12u);  // 1/63 + 1/61
  EXPECT_DOUBLE_EQ(hits[0].score, 1.0 / 63 + 1.0 / 61);
  EXPECT_EQ(hits[0].vector_rank, 3u);
  EXPECT_EQ(hits[0].text_rank, 1u);
  EXPECT_FLOAT_EQ(hits[0].distance, 0.3f);
  EXPECT_DOUBLE_EQ(hits[0].text_score, 5.0);
  EXPECT_EQ(hits[1].slot, 10u);  // 1/61
  EXPECT_DOUBLE_EQ(hits[1].score, 1.0 / 61);
  // 1/62 (vector rank 2) ties with 13 (text rank 2): the vector side's hit first.
  EXPECT_EQ(hits[2].slot, 11u);
  EXPECT_EQ(hits[3].slot, 13u);
  EXPECT_DOUBLE_EQ(hits[2].score, hits[3].score);
  EXPECT_TRUE(std::isnan(hits[3].distance));     // the caller computes it
  EXPECT_TRUE(std::isnan(hits[2].text_score));
}

TEST(FusionTest, TiesFollowRanksNotSlots) {
  // Slot numbers run against the ranks here: ties still go vector side first, by rank.
  const std::vector<VectorCandidate> v = {{30, 0.1f}, {20, 0.2f}};
  const std::vector<TextCandidate> t = {{9, 5.0}, {8, 4.0}};
  SearchOptions o;
  std::vector<FusedHit> hits = Fuse(v, t, o);
  ASSERT_EQ(hits.size(), 4u);
  EXPECT_EQ(hits[0].slot, 30u);  // 1/61, vector rank 1
  EXPECT_EQ(hits[1].slot, 9u);   // 1/61, text rank 1
  EXPECT_EQ(hits[2].slot, 20u);  // 1/62, vector rank 2
  EXPECT_EQ(hits[3].slot, 8u);   // 1/62, text rank 2
}

TEST(FusionTest, WeightedNormalisesEachSideByMinMax) {
  const std::vector<VectorCandidate> v = {{1, 1.0f}, {2, 3.0f}};
  const std::vector<TextCandidate> t = {{2, 10.0}, {3, 4.0}, {4, 6.0}};
  SearchOptions o;
  o.fusion = Fusion::kWeighted;
  o.alpha = 0.25;
  std::vector<FusedHit> hits = Fuse(v, t, o);
  ASSERT_EQ(hits.size(), 4u);
  // slot 1: v 1, t 0; slot 2: v 0, t 1; slot 3: t 0; slot 4: t (6-4)/(10-4)
  std::vector<double> want(5);
  want[1] = 0.25;
  want[2] = 0.75;
  want[3] = 0.0;
  want[4] = 0.75 * (2.0 / 6.0);
  for (const FusedHit& h : hits) EXPECT_DOUBLE_EQ(h.score, want[h.slot]) << h.slot;
  EXPECT_EQ(hits[0].slot, 2u);
}

TEST(FusionTest, OneSidedAndDegenerateLists) {
  SearchOptions o;
  o.fusion = Fusion::kWeighted;
  const std::vector<VectorCandidate> v = {{5, 2.0f}, {6, 2.0f}};
  std::vector<FusedHit> hits = Fuse(v, {}, o);  // a text query without indexable tokens
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_DOUBLE_EQ(hits[0].score, 0.5);  // equal values normalise to 1
  EXPECT_EQ(hits[0].slot, 5u);
  EXPECT_TRUE(Fuse({}, {}, o).empty());
}

TEST(FusionTest, OptionChecksAndCandidates) {
  SearchOptions o;
  EXPECT_TRUE(CheckFusionOptions(o).ok());
  o.rrf_k = 0;
  EXPECT_EQ(CheckFusionOptions(o).code(), StatusCode::kInvalidArgument);
  o.rrf_k = NAN;
  EXPECT_EQ(CheckFusionOptions(o).code(), StatusCode::kInvalidArgument);
  o.rrf_k = 1;
  o.alpha = 1.5;
  EXPECT_EQ(CheckFusionOptions(o).code(), StatusCode::kInvalidArgument);
  o.alpha = -0.1;
  EXPECT_EQ(CheckFusionOptions(o).code(), StatusCode::kInvalidArgument);
  o.alpha = 1.0;
  o.fusion = static_cast<Fusion>(7);
  EXPECT_EQ(CheckFusionOptions(o).code(), StatusCode::kInvalidArgument);
  o.k = 10;
  EXPECT_EQ(HybridCandidates(o), 50u);
  o.k = 20;
  EXPECT_EQ(HybridCandidates(o), 80u);
  o.candidates = 7;
  EXPECT_EQ(HybridCandidates(o), 7u);
}

}  // namespace
}  // namespace augurdb::db
