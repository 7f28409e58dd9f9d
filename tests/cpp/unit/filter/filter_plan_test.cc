// Tests of filter/filter_plan.cc, the filter parser: plan shapes and every operator-argument
// type error.

#include <gtest/gtest.h>

#include <string>

#include "filter/filter.h"
#include "filter/filter_plan.h"

namespace augurdb::filter {
namespace {

std::string PlanString(std::string_view json) {
  auto r = Parse(json);
  EXPECT_TRUE(r.ok()) << json << " -> " << r.status().ToString();
  return r.ok() ? (*r)->DebugString() : "<error>";
}

// Expects kInvalidFilter with a message containing `fragment`.
void ExpectFilterError(std::string_view json, std::string_view fragment) {
  auto r = Parse(json);
  ASSERT_FALSE(r.ok()) << "parsed: " << json << " as " << (*r)->DebugString();
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidFilter) << json;
  EXPECT_NE(r.status().message().find(fragment), std::string::npos)
      << json << " -> " << r.status().message();
}

TEST(FilterParse, PlanShapes) {
  EXPECT_EQ(PlanString("{}"), "all");
  EXPECT_EQ(PlanString(R"({"genre": "news"})"), R"(eq(genre,"news"))");
  EXPECT_EQ(PlanString(R"({"n": 3, "x": 3.0, "z": null, "b": false})"),
            "and(eq(n,3),eq(x,3.0),eq(z,null),eq(b,false))");
  // Cheap predicates move before range scans; order is otherwise kept.
  EXPECT_EQ(PlanString(R"({"year": {"$gt": 2000}, "genre": "news"})"),
            R"(and(eq(genre,"news"),gt(year,2000)))");
  EXPECT_EQ(PlanString(R"({"year": {"$gte": 1990, "$lt": 2000.5}})"),
            "and(gte(year,1990),lt(year,2000.5))");
  EXPECT_EQ(PlanString(R"({"a.b": 1})"), "eq(a.b,1)");  // a dotted key is just a name
  EXPECT_EQ(PlanString(R"({"t": {"$in": ["a", 1, null, true]}})"), R"(in(t,["a",1,null,true]))");
  EXPECT_EQ(PlanString(R"({"t": {"$nin": []}})"), "nin(t,[])");
  EXPECT_EQ(PlanString(R"({"t": {"$exists": false}})"), "exists(t,false)");
  EXPECT_EQ(PlanString(R"({"t": {"$contains": "x"}})"), R"(contains(t,"x"))");
  EXPECT_EQ(PlanString(R"({"t": {"$substring": "Ab"}})"), R"(substring(t,"Ab"))");
  EXPECT_EQ(PlanString(R"({"t": {"$isubstring": "\u00c4B"}})"), "isubstring(t,\"\xC3\xA4" "b\")");
  EXPECT_EQ(PlanString(R"({"t": {"$empty": true}})"), "empty(t,true)");
  EXPECT_EQ(PlanString(R"({"t": {"$ne": "x"}})"), R"(ne(t,"x"))");
  EXPECT_EQ(PlanString(R"({"s": {"$lte": "m"}})"), R"(lte(s,"m"))");
  EXPECT_EQ(PlanString(R"({"$or": [{"a": 1}, {"$and": [{"b": 2}, {"$not": {"c": 3}}]}]})"),
            "or(eq(a,1),and(eq(b,2),not(eq(c,3))))");
  EXPECT_EQ(PlanString(R"({"$and": [{"a": 1}]})"), "eq(a,1)");
  EXPECT_EQ(PlanString(R"({"$or": [{}]})"), "all");
  EXPECT_EQ(PlanString(R"({"$not": {}})"), "not(all)");
  EXPECT_EQ(PlanString(R"({"a": 1, "a": 2})"), "and(eq(a,1),eq(a,2))");
  EXPECT_EQ(PlanString(R"({"": 1})"), "eq(,1)");
}

TEST(FilterParse, DeepNestingWithinTheJsonLimit) {
  std::string json;
  for (int i = 0; i < 30; ++i) json += R"({"$not": )";
  json += R"({"a": 1})";
  json += std::string(30, '}');
  EXPECT_TRUE(Parse(json).ok());
  std::string too_deep;
  for (int i = 0; i < 70; ++i) too_deep += R"({"$and": [)";
  too_deep += "{}";
  for (int i = 0; i < 70; ++i) too_deep += "]}";
  ExpectFilterError(too_deep, "nesting deeper than 64");
}

TEST(FilterParse, MalformedJsonIsInvalidFilter) {
  ExpectFilterError("", "invalid JSON at byte 0");
  ExpectFilterError(R"({"a": })", "invalid JSON at byte 6");
  ExpectFilterError(R"({"a": 1,})", "invalid JSON at byte 8");
  ExpectFilterError(R"({"a": [1, 2})", "invalid JSON at byte 11");
}

TEST(FilterParse, TopLevelMustBeAnObject) {
  ExpectFilterError("[]", "a filter must be a JSON object, got a list");
  ExpectFilterError("\"genre\"", "a filter must be a JSON object, got a string");
  ExpectFilterError("3", "got a number");
  ExpectFilterError("null", "got null");
}

TEST(FilterParse, OperatorArgumentTypeErrors) {
  for (const char* op : {"$gt", "$gte", "$lt", "$lte"}) {
    const std::string o(op);
    ExpectFilterError(R"({"year": {")" + o + R"(": [1]}})",
                      o + " on field 'year' needs a number or a string, got a list");
    ExpectFilterError(R"({"year": {")" + o + R"(": {}}})",
                      "needs a number or a string, got an object");
    ExpectFilterError(R"({"year": {")" + o + R"(": true}})",
                      "needs a number or a string, got a bool");
    ExpectFilterError(R"({"year": {")" + o + R"(": null}})",
                      "needs a number or a string, got null");
  }
  for (const char* op : {"$eq", "$ne", "$contains"}) {
    const std::string o(op);
    ExpectFilterError(R"({"f": {")" + o + R"(": [1]}})",
                      o + " on field 'f' needs a string, number, bool or null, got a list");
    ExpectFilterError(R"({"f": {")" + o + R"(": {"a": 1}}})",
                      o + " on field 'f' needs a string, number, bool or null, got an object");
  }
  for (const char* op : {"$in", "$nin"}) {
    const std::string o(op);
    ExpectFilterError(R"({"f": {")" + o + R"(": "a"}})",
                      o + " on field 'f' needs a list, got a string");
    ExpectFilterError(R"({"f": {")" + o + R"(": 1}})", "needs a list, got a number");
    ExpectFilterError(R"({"f": {")" + o + R"(": null}})", "needs a list, got null");
    ExpectFilterError(R"({"f": {")" + o + R"(": ["a", [1]]}})", "element 1 is a list");
    ExpectFilterError(R"({"f": {")" + o + R"(": [{}]}})", "element 0 is an object");
  }
  ExpectFilterError(R"({"f": {"$exists": 1}})",
                    "$exists on field 'f' needs true or false, got a number");
  ExpectFilterError(R"({"f": {"$exists": "yes"}})", "needs true or false, got a string");
  ExpectFilterError(R"({"f": {"$exists": null}})", "needs true or false, got null");
  ExpectFilterError(R"({"f": {"$empty": 0}})",
                    "$empty on field 'f' needs true or false, got a number");
  for (const char* op : {"$substring", "$isubstring"}) {
    const std::string o(op);
    ExpectFilterError(R"({"f": {")" + o + R"(": 1}})",
                      o + " on field 'f' needs a string, got a number");
    ExpectFilterError(R"({"f": {")" + o + R"(": ["a"]}})", "needs a string, got a list");
  }
}

TEST(FilterParse, CombinatorErrors) {
  ExpectFilterError(R"({"$and": []})", "$and needs a non-empty list of filters, got an empty list");
  ExpectFilterError(R"({"$or": []})", "$or needs a non-empty list of filters");
  ExpectFilterError(R"({"$and": {"a": 1}})",
                    "$and needs a non-empty list of filters, got an object");
  ExpectFilterError(R"({"$or": "a"})", "$or needs a non-empty list of filters, got a string");
  ExpectFilterError(R"({"$and": [{"a": 1}, 2]})",
                    "$and needs a non-empty list of filters; element 1 is a number");
  ExpectFilterError(R"({"$or": [[{"a": 1}]]})", "element 0 is a list");
  ExpectFilterError(R"({"$not": [{"a": 1}]})", "$not needs a filter object, got a list");
  ExpectFilterError(R"({"$not": true})", "$not needs a filter object, got a bool");
  // Errors deep inside combinators still surface.
  ExpectFilterError(R"({"$or": [{"a": 1}, {"$and": [{"b": {"$gt": []}}]}]})",
                    "$gt on field 'b' needs a number or a string, got a list");
  ExpectFilterError(R"({"$not": {"$not": {"c": {"$in": 3}}}})", "$in on field 'c' needs a list");
}

TEST(FilterParse, UnknownOperatorsAndBadShapes) {
  ExpectFilterError(R"({"title": {"$regex": "^a"}})", "unknown operator '$regex' on field 'title'");
  ExpectFilterError(R"({"title": {"$EQ": "a"}})", "unknown operator '$EQ' on field 'title'");
  ExpectFilterError(R"({"f": {"$not": {"$gt": 1}}})", "unknown operator '$not' on field 'f'");
  ExpectFilterError(R"({"f": {"$and": [{"$gt": 1}]}})", "unknown operator '$and' on field 'f'");
  ExpectFilterError(R"({"$nor": [{"a": 1}]})", "unknown operator '$nor'");
  ExpectFilterError(R"({"$gt": 5})", "unknown operator '$gt' at the top level");
  ExpectFilterError(R"({"$": 5})", "unknown operator '$'");
  ExpectFilterError(R"({"f": {}})", "field 'f' has an empty operator object");
  ExpectFilterError(R"({"f": {"a": 1}})", "field 'f' has an object value with key 'a'");
  ExpectFilterError(R"({"f": {"$gt": 1, "lt": 5}})", "with key 'lt'");
  ExpectFilterError(R"({"tags": ["a", "b"]})", "value for field 'tags' must be a string, number");
  ExpectFilterError(R"({"a": 1, "b": {"$foo": 1}})", "unknown operator '$foo' on field 'b'");
}

}  // namespace
}  // namespace augurdb::filter
