// Tests of filter/json.cc, the strict JSON reader: scalars, int versus float, escapes and UTF-8,
// key order, byte offsets in error messages, depth and size limits.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "filter/json.h"

namespace augurdb::filter {
namespace {

JsonValue MustParseJson(std::string_view text) {
  auto r = ParseJson(text);
  EXPECT_TRUE(r.ok()) << text << " -> " << r.status().ToString();
  return r.ok() ? std::move(r).value() : JsonValue();
}

// Expects a kInvalidFilter error at byte `offset` whose message contains `fragment`.
void ExpectJsonError(std::string_view text, size_t offset, std::string_view fragment) {
  auto r = ParseJson(text);
  ASSERT_FALSE(r.ok()) << "parsed: " << text;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidFilter);
  const std::string& msg = r.status().message();
  EXPECT_NE(msg.find("at byte " + std::to_string(offset) + ":"), std::string::npos)
      << text << " -> " << msg;
  EXPECT_NE(msg.find(fragment), std::string::npos) << text << " -> " << msg;
}

TEST(Json, Scalars) {
  EXPECT_EQ(MustParseJson("null").type, JsonType::kNull);
  EXPECT_TRUE(MustParseJson(" true ").bool_value);
  EXPECT_EQ(MustParseJson("false").type, JsonType::kBool);
  EXPECT_FALSE(MustParseJson("false").bool_value);
  EXPECT_EQ(MustParseJson("\"\"").string_value, "");
}

TEST(Json, NumbersKeepIntVersusFloat) {
  struct Case {
    const char* text;
    JsonType type;
    int64_t i;
    double d;
  };
  const Case cases[] = {
      {"0", JsonType::kInt, 0, 0},
      {"-0", JsonType::kInt, 0, 0},
      {"42", JsonType::kInt, 42, 0},
      {"-17", JsonType::kInt, -17, 0},
      {"9223372036854775807", JsonType::kInt, std::numeric_limits<int64_t>::max(), 0},
      {"-9223372036854775808", JsonType::kInt, std::numeric_limits<int64_t>::min(), 0},
      {"9223372036854775808", JsonType::kDouble, 0, 9223372036854775808.0},
      {"-9223372036854775809", JsonType::kDouble, 0, -9223372036854775808.0},
      {"1.0", JsonType::kDouble, 0, 1.0},
      {"1e2", JsonType::kDouble, 0, 100.0},
      {"1E+2", JsonType::kDouble, 0, 100.0},
      {"2.5e-1", JsonType::kDouble, 0, 0.25},
      {"-0.0", JsonType::kDouble, 0, -0.0},
      {"1e-400", JsonType::kDouble, 0, 0.0},
      {"0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000"
       "00000000000000000000000000000000000000000000000000000000000000000000000000000000000"
       "00000000000000000000000000000000000000000000000000000000000000000000000000000000000"
       "00000000000000000000000000000000000000000000000000000000000000000000000000000000001",
       JsonType::kDouble, 0, 0.0},
      {"12345678901234567890123", JsonType::kDouble, 0, 12345678901234567890123.0},
  };
  for (const Case& c : cases) {
    const JsonValue v = MustParseJson(c.text);
    EXPECT_EQ(v.type, c.type) << c.text;
    if (c.type == JsonType::kInt) {
      EXPECT_EQ(v.int_value, c.i) << c.text;
    } else {
      EXPECT_EQ(v.double_value, c.d) << c.text;
    }
  }
  EXPECT_TRUE(std::signbit(MustParseJson("-0.0").double_value));
}

TEST(Json, StringEscapesAndUtf8) {
  EXPECT_EQ(MustParseJson(R"("a\"b\\c\/d\b\f\n\r\t")").string_value, "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(MustParseJson(R"("\u0041\u00e9\u20AC")").string_value, "A\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(MustParseJson(R"("\u0000")").string_value, std::string(1, '\0'));
  // U+1F600 as a surrogate pair, and as raw UTF-8.
  EXPECT_EQ(MustParseJson(R"("\ud83d\ude00")").string_value, "\xF0\x9F\x98\x80");
  EXPECT_EQ(MustParseJson("\"\xF0\x9F\x98\x80 caf\xC3\xA9\"").string_value,
            "\xF0\x9F\x98\x80 caf\xC3\xA9");
}

TEST(Json, ObjectsKeepKeyOrderAndOffsets) {
  const JsonValue v = MustParseJson(R"({"b": 1, "a": [true, {}], "b": "x"})");
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.keys.size(), 3u);
  EXPECT_EQ(v.keys[0], "b");
  EXPECT_EQ(v.keys[1], "a");
  EXPECT_EQ(v.keys[2], "b");  // duplicates are kept; the filter parser ANDs them
  EXPECT_EQ(v.items[0].int_value, 1);
  EXPECT_EQ(v.items[0].offset, 6u);
  ASSERT_TRUE(v.items[1].is_array());
  EXPECT_EQ(v.items[1].items.size(), 2u);
  EXPECT_TRUE(v.items[1].items[1].is_object());
  EXPECT_EQ(v.items[2].string_value, "x");
  EXPECT_TRUE(MustParseJson(" [ ] ").items.empty());
  EXPECT_TRUE(MustParseJson("\t{\r\n}\n").is_object());
}

TEST(Json, MalformedInputNamesTheByteOffset) {
  ExpectJsonError("", 0, "end of input");
  ExpectJsonError("   ", 3, "end of input");
  ExpectJsonError("{", 1, "expected a string key");
  ExpectJsonError(R"({"a" 1})", 5, "expected ':'");
  ExpectJsonError(R"({"a":1,})", 7, "expected a string key");
  ExpectJsonError(R"({"a":1 "b":2})", 7, "expected ',' or '}'");
  ExpectJsonError("[1,]", 3, "expected a value");
  ExpectJsonError("[1 2]", 3, "expected ',' or ']'");
  ExpectJsonError("{a:1}", 1, "expected a string key");
  ExpectJsonError("{'a':1}", 1, "expected a string key");
  ExpectJsonError(R"({"a":1} x)", 8, "after the value");
  ExpectJsonError(R"({"a":1}})", 7, "after the value");
  ExpectJsonError("tru", 0, "expected a value");
  ExpectJsonError("nul", 0, "expected a value");
  ExpectJsonError("NaN", 0, "expected a value");
  ExpectJsonError("Infinity", 0, "expected a value");
  ExpectJsonError("-Infinity", 1, "expected a digit");
  ExpectJsonError("+1", 0, "expected a value");
  ExpectJsonError("01", 0, "leading zeros");
  ExpectJsonError("-", 1, "expected a digit");
  ExpectJsonError("1.", 2, "after '.'");
  ExpectJsonError(".5", 0, "expected a value");
  ExpectJsonError("1e", 2, "exponent");
  ExpectJsonError("1e+", 3, "exponent");
  ExpectJsonError("1e400", 0, "out of the range");
  ExpectJsonError("-1e400", 0, "out of the range");
  ExpectJsonError(R"("abc)", 0, "unterminated string");
  ExpectJsonError(R"(["a\x"])", 3, "invalid escape");
  ExpectJsonError(R"("\u12G4")", 5, "hex digit");
  ExpectJsonError(R"("\u12)", 3, "truncated");
  ExpectJsonError(R"("\ud800")", 1, "high surrogate");
  ExpectJsonError(R"("\ud800\u0041")", 1, "high surrogate");
  ExpectJsonError(R"("\udc00")", 1, "lone low surrogate");
  ExpectJsonError("\"a\nb\"", 2, "control character");
  ExpectJsonError("\"\t\"", 1, "control character");
  ExpectJsonError("\"\xFF\"", 1, "invalid UTF-8");
  ExpectJsonError("\"\xC0\xAF\"", 1, "invalid UTF-8");          // overlong '/'
  ExpectJsonError("\"\xED\xA0\x80\"", 1, "invalid UTF-8");      // encoded surrogate
  ExpectJsonError("\"\xF4\x90\x80\x80\"", 1, "invalid UTF-8");  // above U+10FFFF
  ExpectJsonError("\"\xE2\x82\"", 1, "invalid UTF-8");          // truncated sequence
  ExpectJsonError("[1] // c", 4, "after the value");
  ExpectJsonError(std::string_view("[1]\0", 4), 3, "byte 0x00");
}

TEST(Json, DepthAndSizeLimits) {
  const auto nested = [](size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
  };
  EXPECT_TRUE(ParseJson(nested(kMaxJsonDepth)).ok());
  ExpectJsonError(nested(kMaxJsonDepth + 1), kMaxJsonDepth, "nesting deeper than 64");
  ExpectJsonError(nested(100000), kMaxJsonDepth, "nesting deeper than 64");
  std::string deep_objects;
  for (size_t i = 0; i <= kMaxJsonDepth; ++i) deep_objects += "{\"a\":";
  deep_objects += "1" + std::string(kMaxJsonDepth + 1, '}');
  EXPECT_FALSE(ParseJson(deep_objects).ok());

  auto r = ParseJson("[1, 2, 3]", 8);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidFilter);
  EXPECT_NE(r.status().message().find("9 bytes"), std::string::npos) << r.status().message();
  EXPECT_TRUE(ParseJson("[1, 2, 3]", 9).ok());
}

}  // namespace
}  // namespace augurdb::filter
