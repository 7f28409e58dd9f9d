// Recursive-descent JSON parser; recursion depth is bounded by kMaxJsonDepth.
#include "filter/json.h"

#include <charconv>
#include <cstdio>
#include <iterator>
#include <new>
#include <system_error>
#include <utility>

#include "util/utf8.h"

namespace augurdb::filter {
namespace {

// The character a one-letter escape (\n, \" ...) stands for, or '\0' when e is not one of them.
char SimpleEscape(char e) noexcept {
  constexpr std::string_view kLetters = "\"\\/bfnrt";
  constexpr std::string_view kMeanings = "\"\\/\b\f\n\r\t";
  static_assert(kLetters.size() == kMeanings.size());
  const size_t i = kLetters.find(e);
  return i == std::string_view::npos ? '\0' : kMeanings[i];
}

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  Status ParseDocument(JsonValue* out) {
    SkipWhitespace();
    AUGUR_RETURN_IF_ERROR(ParseValue(0, out));
    SkipWhitespace();
    if (pos_ != text_.size())
      return Error(pos_, "unexpected " + Describe(pos_) + " after the value");
    return Status::OK();
  }

 private:
  static bool IsDigit(char c) noexcept { return c >= '0' && c <= '9'; }

  Status Error(size_t offset, std::string_view what) const {
    std::string msg = "invalid JSON at byte " + std::to_string(offset) + ": ";
    msg += what;
    return Status::InvalidFilter(std::move(msg));
  }

  // "end of input", "character 'x'" or "byte 0xNN", for messages.
  std::string Describe(size_t offset) const {
    if (offset >= text_.size()) return "end of input";
    const auto c = static_cast<unsigned char>(text_[offset]);
    if (c >= 0x20 && c < 0x7f) return std::string("character '") + static_cast<char>(c) + "'";
    char buf[16];
    std::snprintf(buf, sizeof(buf), "byte 0x%02x", c);
    return buf;
  }

  void SkipWhitespace() noexcept {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  bool ConsumeLiteral(std::string_view word) noexcept {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Status ParseValue(size_t depth, JsonValue* out) {
    out->offset = pos_;
    if (pos_ >= text_.size()) return Error(pos_, "unexpected end of input, expected a value");
    switch (text_[pos_]) {
      case '{':
        return ParseObject(depth + 1, out);
      case '[':
        return ParseArray(depth + 1, out);
      case '"':
        out->type = JsonType::kString;
        return ParseString(&out->string_value);
      case 't':
        if (!ConsumeLiteral("true")) break;
        out->type = JsonType::kBool;
        out->bool_value = true;
        return Status::OK();
      case 'f':
        if (!ConsumeLiteral("false")) break;
        out->type = JsonType::kBool;
        out->bool_value = false;
        return Status::OK();
      case 'n':
        if (!ConsumeLiteral("null")) break;
        out->type = JsonType::kNull;
        return Status::OK();
      default:
        if (text_[pos_] == '-' || IsDigit(text_[pos_])) return ParseNumber(out);
        break;
    }
    return Error(pos_, "unexpected " + Describe(pos_) + ", expected a value");
  }

  Status CheckDepth(size_t depth) const {
    if (depth > kMaxJsonDepth) {
      return Error(pos_, "nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    return Status::OK();
  }

  Status ParseObject(size_t depth, JsonValue* out) {
    AUGUR_RETURN_IF_ERROR(CheckDepth(depth));
    out->type = JsonType::kObject;
    ++pos_;  // '{'
    SkipWhitespace();
    if (Consume('}')) return Status::OK();
    for (bool done = false; !done;) {
      SkipWhitespace();
      if (pos_ >= text_.size() || text_[pos_] != '"') {
        return Error(pos_, "unexpected " + Describe(pos_) + ", expected a string key");
      }
      std::string key;
      AUGUR_RETURN_IF_ERROR(ParseString(&key));
      SkipWhitespace();
      if (pos_ >= text_.size() || text_[pos_] != ':') {
        return Error(pos_, "unexpected " + Describe(pos_) + ", expected ':' after an object key");
      }
      ++pos_;
      SkipWhitespace();
      out->keys.push_back(std::move(key));
      out->items.emplace_back();
      AUGUR_RETURN_IF_ERROR(ParseValue(depth, &out->items.back()));
      AUGUR_RETURN_IF_ERROR(NextItem('}', "an object", &done));
    }
    return Status::OK();
  }

  Status ParseArray(size_t depth, JsonValue* out) {
    AUGUR_RETURN_IF_ERROR(CheckDepth(depth));
    out->type = JsonType::kArray;
    ++pos_;  // '['
    SkipWhitespace();
    if (Consume(']')) return Status::OK();
    for (bool done = false; !done;) {
      SkipWhitespace();
      out->items.emplace_back();
      AUGUR_RETURN_IF_ERROR(ParseValue(depth, &out->items.back()));
      AUGUR_RETURN_IF_ERROR(NextItem(']', "a list", &done));
    }
    return Status::OK();
  }

  bool Consume(char c) noexcept {
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  // After a list element or an object member: ',' means another follows, `close` ends the
  // container (*done), anything else is an error naming both.
  Status NextItem(char close, std::string_view container, bool* done) {
    SkipWhitespace();
    if (Consume(',')) return Status::OK();
    if (!Consume(close)) {
      return Error(pos_, "unexpected " + Describe(pos_) + ", expected ',' or '" +
                             std::string(1, close) + "' in " + std::string(container));
    }
    *done = true;
    return Status::OK();
  }

  // Reads 4 hex digits at pos_ (after "\u").
  Status ParseHex4(uint32_t* out) {
    if (text_.size() - pos_ < 4) return Error(pos_, "truncated \\u escape");
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) {
      const char c = text_[pos_ + i];
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return Error(pos_ + i, "invalid hex digit in a \\u escape");
      }
      v = v * 16 + d;
    }
    pos_ += 4;
    *out = v;
    return Status::OK();
  }

  Status ParseString(std::string* out) {
    const size_t start = pos_;
    ++pos_;  // opening quote
    while (true) {
      // Copy the run of plain ASCII in one go.
      const size_t run_start = pos_;
      while (pos_ < text_.size()) {
        const auto c = static_cast<unsigned char>(text_[pos_]);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++pos_;
      }
      out->append(text_.data() + run_start, pos_ - run_start);
      if (pos_ >= text_.size()) return Error(start, "unterminated string");
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return Status::OK();
      }
      if (c < 0x20) return Error(pos_, "control character in a string (escape it)");
      if (c >= 0x80) {
        const size_t len = Utf8SequenceLength(
            reinterpret_cast<const uint8_t*>(text_.data()) + pos_, text_.size() - pos_);
        if (len == 0) return Error(pos_, "invalid UTF-8 in a string");
        out->append(text_.data() + pos_, len);
        pos_ += len;
        continue;
      }
      // Backslash escape.
      const size_t escape_at = pos_;
      ++pos_;
      if (pos_ >= text_.size()) return Error(start, "unterminated string");
      const char e = text_[pos_++];
      if (const char simple = SimpleEscape(e); simple != '\0') {
        out->push_back(simple);
        continue;
      }
      if (e != 'u') return Error(escape_at, "invalid escape '\\" + std::string(1, e) + "'");
      uint32_t cp = 0;
      AUGUR_RETURN_IF_ERROR(ParseHex4(&cp));
      if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return Error(escape_at, "lone low surrogate in a \\u escape");
      }
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (text_.substr(pos_, 2) != "\\u") {
          return Error(escape_at, "high surrogate not followed by a \\u low surrogate");
        }
        pos_ += 2;
        uint32_t low = 0;
        AUGUR_RETURN_IF_ERROR(ParseHex4(&low));
        if (low < 0xDC00 || low > 0xDFFF) {
          return Error(escape_at, "high surrogate not followed by a \\u low surrogate");
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      }
      AppendUtf8(cp, out);
    }
  }

  Status ParseNumber(JsonValue* out) {
    const size_t start = pos_;
    const auto digits = [&]() {
      const size_t from = pos_;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
      return pos_ - from;
    };
    if (text_[pos_] == '-') ++pos_;
    if (pos_ >= text_.size() || !IsDigit(text_[pos_])) {
      return Error(pos_, "unexpected " + Describe(pos_) + ", expected a digit");
    }
    const size_t int_begin = pos_;
    if (text_[pos_] == '0') {
      ++pos_;
      if (pos_ < text_.size() && IsDigit(text_[pos_])) {
        return Error(int_begin, "leading zeros are not allowed in numbers");
      }
    } else {
      digits();
    }
    const size_t int_digits = pos_ - int_begin;
    bool is_integer = true;
    size_t leading_fraction_zeros = 0;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      is_integer = false;
      ++pos_;
      const size_t frac_begin = pos_;
      if (digits() == 0) return Error(pos_, "expected a digit after '.'");
      while (frac_begin + leading_fraction_zeros < pos_ &&
             text_[frac_begin + leading_fraction_zeros] == '0') {
        ++leading_fraction_zeros;
      }
    }
    int64_t exponent = 0;  // saturated at +-1e9: only its sign and rough size matter
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      is_integer = false;
      ++pos_;
      bool negative_exponent = false;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
        negative_exponent = text_[pos_] == '-';
        ++pos_;
      }
      const size_t exp_begin = pos_;
      if (digits() == 0) return Error(pos_, "expected a digit in the exponent");
      for (size_t i = exp_begin; i < pos_ && exponent < 1000000000; ++i) {
        exponent = exponent * 10 + (text_[i] - '0');
      }
      if (negative_exponent) exponent = -exponent;
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (is_integer) {
      int64_t v = 0;
      const auto [ptr, ec] = std::from_chars(first, last, v);
      if (ec == std::errc() && ptr == last) {
        out->type = JsonType::kInt;
        out->int_value = v;
        return Status::OK();
      }
      // Too large for int64: falls through to a double.
    }
    double d = 0.0;
    const auto [ptr, ec] = std::from_chars(first, last, d);
    if (ec == std::errc::result_out_of_range) {
      // Underflow reads as zero (as most JSON readers do); overflow is an error. The decimal
      // magnitude (position of the first significant digit) tells the two apart.
      const bool zero_int = int_digits == 1 && text_[int_begin] == '0';
      const int64_t magnitude = (zero_int ? -static_cast<int64_t>(leading_fraction_zeros)
                                          : static_cast<int64_t>(int_digits)) +
                                exponent;
      if (magnitude > 0) return Error(start, "number out of the range of a double");
      d = text_[start] == '-' ? -0.0 : 0.0;
    } else if (ec != std::errc() || ptr != last) {
      return Error(start, "malformed number");
    }
    out->type = JsonType::kDouble;
    out->double_value = d;
    return Status::OK();
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<JsonValue> ParseJson(std::string_view text, size_t max_bytes) {
  if (text.size() > max_bytes) {
    return Status::InvalidFilter("invalid JSON: the input is " + std::to_string(text.size()) +
                                 " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  try {
    JsonValue root;
    JsonParser parser(text);
    AUGUR_RETURN_IF_ERROR(parser.ParseDocument(&root));
    return root;
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory while parsing filter JSON");
  }
}

std::string_view JsonTypeName(JsonType type) noexcept {
  // Indexed by JsonType; ints and doubles are both "a number" to the user.
  constexpr std::string_view kNames[] = {"null",     "a bool", "a number", "a number",
                                         "a string", "a list", "an object"};
  static_assert(std::size(kNames) == static_cast<size_t>(JsonType::kObject) + 1);
  const auto i = static_cast<size_t>(type);
  return i < std::size(kNames) ? kNames[i] : "an unknown value";
}

}  // namespace augurdb::filter
