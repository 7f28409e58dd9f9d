// libFuzzer target: arbitrary text as a where-filter. Parse must return a typed plan or
// kInvalidFilter; a plan is evaluated over a small fixed metadata set covering every value type.
// Properties that need no second implementation of the language:
//   - the result is a subset of the eligible slots;
//   - evaluating over a smaller eligible set gives the full result restricted to it;
//   - columns built in another order, with churn (set, clear, set again), give the same result;
//   - {"$not": F} is the eligible slots minus F's result.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "filter/filter.h"
#include "filter/filter_plan.h"
#include "fuzz_support.h"

namespace augurdb::fuzz {
namespace {

using filter::Bitset;

std::vector<Metadata> Records() {
  return {
      {{"genre", "news"}, {"year", 2020}, {"score", 0.5}, {"tags", Value::List{"a", "b"}}},
      {{"genre", "sport"}, {"year", 1999}, {"score", -1.25}, {"ok", true}},
      {{"genre", ""}, {"year", int64_t{-9007199254740993}}, {"score", 2.0}, {"ok", false}},
      {{"year", 2020.0}, {"n", nullptr}, {"tags", Value::List{}}},
      {{"tags", Value::List{1, 2.5, "x", true, nullptr}}, {"a.b", "dotted"}},
      {},
      {{"genre", "news"}, {"year", int64_t{9223372036854775807}}, {"score", -0.0}},
      {{"genre", "caf\xc3\xa9"}, {"n", 1}, {"tags", Value::List{Value::List{1}, "a"}}},
      {{"score", 1e308}, {"year", 2021}, {"ok", true}, {"$gt", 3}},
      {{"genre", "NEWS"}, {"n", 1.0}, {"tags", "a"}},
      {{"n", int64_t{-1}}, {"year", nullptr}},
      {{"genre", "news"}, {"tags", Value::List{"b", "a", "a"}}, {"n", 3}},
  };
}

struct Fixture {
  size_t slot_end = 0;
  Bitset eligible;  // slot 5 has no metadata; slot 10 stands for a deleted record
  Bitset odd;       // a smaller eligible set
  filter::MetadataColumns forward;
  filter::MetadataColumns churned;

  Fixture() {
    const std::vector<Metadata> records = Records();
    slot_end = records.size();
    eligible.Resize(slot_end);
    odd.Resize(slot_end);
    for (size_t s = 0; s < slot_end; ++s) {
      forward.Set(static_cast<uint32_t>(s), records[s]);
      if (s != 10) eligible.Set(static_cast<uint32_t>(s));
      if (s != 10 && s % 2 == 1) odd.Set(static_cast<uint32_t>(s));
    }
    // Reverse order, each slot first given another record's metadata, then cleared.
    for (size_t i = slot_end; i-- > 0;) {
      const auto s = static_cast<uint32_t>(i);
      churned.Set(s, records[(i + 3) % slot_end]);
      churned.Clear(s);
      churned.Set(s, records[(i + 7) % slot_end]);
      churned.Set(s, records[i]);
    }
  }
};

void Expect(bool ok, const std::string& what, std::string_view text) {
  if (!ok) Fail(what + " for filter: " + std::string(text));
}

bool SubsetOf(const Bitset& a, const Bitset& b) {
  for (size_t i = 0; i < a.words().size(); ++i) {
    if ((a.words()[i] & ~b.words()[i]) != 0) return false;
  }
  return true;
}

Bitset Intersect(const Bitset& a, const Bitset& b) {
  Bitset out(a.size());
  for (size_t i = 0; i < a.words().size(); ++i) out.words()[i] = a.words()[i] & b.words()[i];
  return out;
}

}  // namespace
}  // namespace augurdb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace augurdb;
  using fuzz::Expect;
  static const fuzz::Fixture* fixture = new fuzz::Fixture();  // built once, read-only after
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<std::shared_ptr<const filter::FilterPlan>> plan = filter::Parse(text);
  if (!plan.ok()) {
    Expect(plan.status().code() == StatusCode::kInvalidFilter ||
               plan.status().code() == StatusCode::kResourceExhausted,
           "unexpected error code " + plan.status().ToString(), text);
    return 0;
  }
  (void)(*plan)->DebugString();

  const fuzz::Fixture& f = *fixture;
  filter::Bitset all, odd, churned;
  f.forward.Evaluate(**plan, f.eligible, f.slot_end, &all);
  Expect(all.size() == f.slot_end, "result has the wrong size", text);
  Expect(fuzz::SubsetOf(all, f.eligible), "result outside the eligible slots", text);
  f.forward.Evaluate(**plan, f.odd, f.slot_end, &odd);
  Expect(odd.words() == fuzz::Intersect(all, f.odd).words(),
         "a smaller eligible set changes the matches", text);
  f.churned.Evaluate(**plan, f.eligible, f.slot_end, &churned);
  Expect(churned.words() == all.words(), "columns built another way disagree", text);

  const std::string negated = "{\"$not\":" + std::string(text) + "}";
  Result<std::shared_ptr<const filter::FilterPlan>> not_plan = filter::Parse(negated);
  if (not_plan.ok()) {  // fails only when the input is already at the nesting limit
    filter::Bitset inverse;
    f.forward.Evaluate(**not_plan, f.eligible, f.slot_end, &inverse);
    for (size_t s = 0; s < f.slot_end; ++s) {
      const auto slot = static_cast<uint32_t>(s);
      Expect(inverse.Test(slot) == (f.eligible.Test(slot) && !all.Test(slot)),
             "$not is not the complement at slot " + std::to_string(s), text);
    }
  }
  return 0;
}
