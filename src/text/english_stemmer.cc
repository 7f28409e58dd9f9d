// Method: Snowball programs walk a cursor over the word, forwards for the regions and backwards
// for the suffix steps, and each `among` picks the longest listed suffix (or prefix) that ends
// (starts) at the cursor. SnowballWord mirrors that small machine (cursor, limit, bra/ket slice)
// so each step below reads like the step of the same name in english.sbl, which keeps the port
// checkable line by line against the published algorithm.
#include "text/english_stemmer.h"

#include <array>
#include <cstdint>
#include <string_view>

#include "util/utf8.h"

namespace augurdb::text {
namespace {

struct Among {
  std::string_view s;
  int result;  // 0 is reserved for "no match"; -1 means "matched, no action"
};

template <typename Char>
class SnowballWord {
 public:
  using Str = std::basic_string<Char>;
  explicit SnowballWord(Str s) : cur_(std::move(s)), limit_(static_cast<int>(cur_.size())) {}

  Str& str() { return cur_; }
  int size() const { return limit_; }
  Char at(int i) const { return cur_[static_cast<size_t>(i)]; }
  static bool IsVowel(Char c) {
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
  }
  // g_v_WXY: vowels plus w, x and Y.
  static bool IsVowelWXY(Char c) { return IsVowel(c) || c == 'w' || c == 'x' || c == 'Y'; }
  static bool IsValidLi(Char c) {
    return c == 'c' || c == 'd' || c == 'e' || c == 'g' || c == 'h' || c == 'k' || c == 'm' ||
           c == 'n' || c == 'r' || c == 't';
  }

  // Backward primitives (the cursor moves towards limit_backward, which is always 0 here).
  bool InVowelB() {
    if (c_ <= 0 || !IsVowel(at(c_ - 1))) return false;
    --c_;
    return true;
  }
  template <typename Pred>
  bool OutB(Pred in_group) {
    if (c_ <= 0 || in_group(at(c_ - 1))) return false;
    --c_;
    return true;
  }
  bool OutVowelB() { return OutB(IsVowel); }
  // go_out_grouping_b(v): back up to just after the nearest vowel before the cursor.
  bool GoToVowelB() {
    while (c_ > 0) {
      if (IsVowel(at(c_ - 1))) return true;
      --c_;
    }
    return false;
  }
  bool CharB(char ch) {
    if (c_ <= 0 || at(c_ - 1) != static_cast<Char>(ch)) return false;
    --c_;
    return true;
  }
  bool EqB(std::string_view s) {
    const int n = static_cast<int>(s.size());
    if (c_ < n) return false;
    for (int i = 0; i < n; ++i) {
      if (at(c_ - n + i) != static_cast<Char>(static_cast<unsigned char>(s[i]))) return false;
    }
    c_ -= n;
    return true;
  }
  // Longest entry of `v` that ends at the cursor; moves the cursor to its start.
  template <size_t N>
  int FindAmongB(const std::array<Among, N>& v) {
    int best = -1;
    for (size_t i = 0; i < N; ++i) {
      const int n = static_cast<int>(v[i].s.size());
      if (n > c_ || (best >= 0 && n <= static_cast<int>(v[best].s.size()))) continue;
      // From the last letter backwards: most entries fail on the first comparison.
      bool match = true;
      for (int k = n - 1; k >= 0 && match; --k) {
        match = at(c_ - n + k) == static_cast<Char>(static_cast<unsigned char>(v[i].s[k]));
      }
      if (match) best = static_cast<int>(i);
    }
    if (best < 0) return 0;
    c_ -= static_cast<int>(v[best].s.size());
    return v[best].result;
  }
  // Longest entry of `v` that starts at the cursor; moves the cursor to its end.
  template <size_t N>
  int FindAmong(const std::array<Among, N>& v) {
    int best = -1;
    for (size_t i = 0; i < N; ++i) {
      const int n = static_cast<int>(v[i].s.size());
      if (c_ + n > limit_ || (best >= 0 && n <= static_cast<int>(v[best].s.size()))) continue;
      bool match = true;
      for (int k = 0; k < n && match; ++k) {
        match = at(c_ + k) == static_cast<Char>(static_cast<unsigned char>(v[i].s[k]));
      }
      if (match) best = static_cast<int>(i);
    }
    if (best < 0) return 0;
    c_ += static_cast<int>(v[best].s.size());
    return v[best].result;
  }
  // Replaces [bra_, ket_) by s, keeping the cursor where Snowball's replace_s puts it.
  void SliceFrom(std::string_view s) {
    Str repl;
    for (char ch : s) repl.push_back(static_cast<Char>(static_cast<unsigned char>(ch)));
    const int adjustment = static_cast<int>(repl.size()) - (ket_ - bra_);
    // Rebuilt rather than replace()d: GCC 12 reports a false -Wrestrict on the in-place form.
    Str out(cur_.data(), static_cast<size_t>(bra_));
    out += repl;
    out.append(cur_.data() + ket_, cur_.size() - static_cast<size_t>(ket_));
    cur_.swap(out);
    limit_ += adjustment;
    if (c_ >= ket_) {
      c_ += adjustment;
    } else if (c_ > bra_) {
      c_ = bra_;
    }
    ket_ = bra_ + static_cast<int>(repl.size());
  }
  void SliceDel() { SliceFrom(""); }

  int c_ = 0;
  int bra_ = 0;
  int ket_ = 0;
  int p1_ = 0;
  int p2_ = 0;
  bool y_found_ = false;

 private:
  Str cur_;
  int limit_;
};

constexpr std::array<Among, 9> kRegionPrefixes = {{{"arsen", -1}, {"commun", -1}, {"emerg", -1},
                                                   {"gener", -1}, {"inter", -1}, {"later", -1},
                                                   {"organ", -1}, {"past", -1}, {"univers", -1}}};
constexpr std::array<Among, 3> kApostrophes = {{{"'", 1}, {"'s'", 1}, {"'s", 1}}};
constexpr std::array<Among, 6> kStep1a = {
    {{"ied", 2}, {"s", 3}, {"ies", 2}, {"sses", 1}, {"ss", -1}, {"us", -1}}};
constexpr std::array<Among, 3> kEedExceptions = {{{"succ", 1}, {"proc", 1}, {"exc", 1}}};
constexpr std::array<Among, 7> kIngExceptions = {{{"even", 2}, {"cann", 2}, {"inn", 2},
                                                  {"earr", 2}, {"herr", 2}, {"out", 2},
                                                  {"y", 1}}};
constexpr std::array<Among, 7> kStep1b = {{{"", -1}, {"ed", 2}, {"eed", 1}, {"ing", 3},
                                           {"edly", 2}, {"eedly", 1}, {"ingly", 2}}};
constexpr std::array<Among, 13> kStep1bEnding = {
    {{"", 3}, {"bb", 2}, {"dd", 2}, {"ff", 2}, {"gg", 2}, {"bl", 1}, {"mm", 2}, {"nn", 2},
     {"pp", 2}, {"rr", 2}, {"at", 1}, {"tt", 2}, {"iz", 1}}};
constexpr std::array<Among, 25> kStep2 = {
    {{"anci", 3},    {"enci", 2},     {"ogi", 14},    {"li", 16},      {"bli", 12},
     {"abli", 4},    {"alli", 8},     {"fulli", 9},   {"lessli", 15},  {"ousli", 10},
     {"entli", 5},   {"aliti", 8},    {"biliti", 12}, {"iviti", 11},   {"tional", 1},
     {"ational", 7}, {"alism", 8},    {"ation", 7},   {"ization", 6},  {"izer", 6},
     {"ator", 7},    {"iveness", 11}, {"fulness", 9}, {"ousness", 10}, {"ogist", 13}}};
constexpr std::array<std::string_view, 16> kStep2Replacement = {
    "", "tion", "ence", "ance", "able", "ent", "ize", "ate", "al", "ful", "ous", "ive", "ble",
    "og", "og", "less"};
constexpr std::array<Among, 9> kStep3 = {{{"icate", 4}, {"ative", 6}, {"alize", 3}, {"iciti", 4},
                                          {"ical", 4}, {"tional", 1}, {"ational", 2}, {"ful", 5},
                                          {"ness", 5}}};
constexpr std::array<std::string_view, 5> kStep3Replacement = {"", "tion", "ate", "al", "ic"};
constexpr std::array<Among, 18> kStep4 = {
    {{"ic", 1},   {"ance", 1}, {"ence", 1}, {"able", 1}, {"ible", 1}, {"ate", 1},
     {"ive", 1},  {"ize", 1},  {"iti", 1},  {"al", 1},   {"ism", 1},  {"ion", 2},
     {"er", 1},   {"ous", 1},  {"ant", 1},  {"ent", 1},  {"ment", 1}, {"ement", 1}}};
constexpr std::array<Among, 2> kStep5 = {{{"e", 1}, {"l", 2}}};
constexpr std::array<Among, 15> kExceptions = {
    {{"andes", -1}, {"atlas", -1}, {"bias", -1},  {"cosmos", -1}, {"early", 6},
     {"gently", 4}, {"howe", -1},  {"idly", 3},   {"news", -1},   {"only", 7},
     {"singly", 8}, {"skies", 2},  {"skis", 1},   {"sky", -1},    {"ugly", 5}}};
constexpr std::array<std::string_view, 8> kExceptionStems = {"ski",  "sky",   "idl",  "gentl",
                                                             "ugli", "earli", "onli", "singl"};

template <typename Char>
class EnglishStemmer {
 public:
  explicit EnglishStemmer(SnowballWord<Char>* w) : w_(*w) {}

  void Stem() {
    w_.c_ = 0;
    if (Exception1()) return;
    if (w_.size() < 3) return;
    Prelude();
    MarkRegions();
    w_.c_ = w_.size();
    RunBackward(&EnglishStemmer::Step1a);
    RunBackward(&EnglishStemmer::Step1b);
    RunBackward(&EnglishStemmer::Step1c);
    RunBackward(&EnglishStemmer::Step2);
    RunBackward(&EnglishStemmer::Step3);
    RunBackward(&EnglishStemmer::Step4);
    RunBackward(&EnglishStemmer::Step5);
    Postlude();
  }

 private:
  // Each backward step starts at the end of the word and leaves the cursor there afterwards.
  void RunBackward(void (EnglishStemmer::*step)()) {
    const int from_end = w_.size() - w_.c_;
    (this->*step)();
    w_.c_ = w_.size() - from_end;
  }
  bool R1() const { return w_.p1_ <= w_.c_; }
  bool R2() const { return w_.p2_ <= w_.c_; }

  bool Exception1() {
    w_.bra_ = w_.c_;
    const int r = w_.FindAmong(kExceptions);
    if (r == 0) return false;
    w_.ket_ = w_.c_;
    if (w_.c_ < w_.size()) return false;
    if (r > 0) w_.SliceFrom(kExceptionStems[static_cast<size_t>(r - 1)]);
    return true;
  }

  void Prelude() {
    w_.y_found_ = false;
    if (w_.size() > 0 && w_.at(0) == '\'') {
      w_.bra_ = 0;
      w_.ket_ = 1;
      w_.c_ = 1;
      w_.SliceDel();
    }
    auto& s = w_.str();
    if (w_.size() > 0 && s[0] == 'y') {
      s[0] = 'Y';
      w_.y_found_ = true;
    }
    for (int i = 0; i + 1 < w_.size(); ++i) {
      if (SnowballWord<Char>::IsVowel(s[static_cast<size_t>(i)]) &&
          s[static_cast<size_t>(i) + 1] == 'y') {
        s[static_cast<size_t>(i) + 1] = 'Y';
        w_.y_found_ = true;
      }
    }
    w_.c_ = 0;
  }

  // Forward: move past the next vowel-then-non-vowel; false when the word ends first.
  bool SkipSyllable() {
    while (w_.c_ < w_.size() && !SnowballWord<Char>::IsVowel(w_.at(w_.c_))) ++w_.c_;
    if (w_.c_ >= w_.size()) return false;
    ++w_.c_;
    while (w_.c_ < w_.size() && SnowballWord<Char>::IsVowel(w_.at(w_.c_))) ++w_.c_;
    if (w_.c_ >= w_.size()) return false;
    ++w_.c_;
    return true;
  }

  void MarkRegions() {
    w_.p1_ = w_.size();
    w_.p2_ = w_.size();
    w_.c_ = 0;
    if (w_.FindAmong(kRegionPrefixes) == 0) {
      w_.c_ = 0;
      if (!SkipSyllable()) return;
    }
    w_.p1_ = w_.c_;
    if (!SkipSyllable()) return;
    w_.p2_ = w_.c_;
  }

  // A short syllable ends at the cursor (or the stem is "past").
  bool ShortV() {
    const int start = w_.c_;
    if (w_.OutB(SnowballWord<Char>::IsVowelWXY) && w_.InVowelB() && w_.OutVowelB()) return true;
    w_.c_ = start;
    if (w_.OutVowelB() && w_.InVowelB() && w_.c_ <= 0) return true;
    w_.c_ = start;
    return w_.EqB("past");
  }

  void Step1a() {
    const int start = w_.c_;
    w_.ket_ = w_.c_;
    if (w_.FindAmongB(kApostrophes) != 0) {
      w_.bra_ = w_.c_;
      w_.SliceDel();
    } else {
      w_.c_ = start;
    }
    w_.ket_ = w_.c_;
    const int r = w_.FindAmongB(kStep1a);
    if (r == 0) return;
    w_.bra_ = w_.c_;
    if (r == 1) {
      w_.SliceFrom("ss");
    } else if (r == 2) {
      w_.SliceFrom(w_.c_ >= 2 ? "i" : "ie");
    } else if (r == 3) {
      if (w_.c_ <= 0) return;
      --w_.c_;
      if (!w_.GoToVowelB()) return;
      w_.SliceDel();
    }
  }

  void Step1b() {
    w_.ket_ = w_.c_;
    int r = w_.FindAmongB(kStep1b);
    w_.bra_ = w_.c_;
    const int before_suffix = w_.size() - w_.c_;
    bool delete_suffix = false;
    if (r == 1) {
      if (R1()) {
        const bool exception = w_.FindAmongB(kEedExceptions) != 0 && w_.c_ <= 0;
        if (!exception) {
          w_.c_ = w_.size() - before_suffix;
          w_.SliceFrom("ee");
        }
      }
      return;
    } else if (r == 2) {
      delete_suffix = true;
    } else if (r == 3) {
      r = w_.FindAmongB(kIngExceptions);
      if (r == 0) {
        delete_suffix = true;
      } else if (r == 1) {
        const int at_y = w_.c_;
        if (w_.OutVowelB() && w_.c_ <= 0) {
          w_.c_ = at_y;
          w_.bra_ = w_.c_;
          w_.SliceFrom("ie");
          return;
        }
        delete_suffix = true;
      } else {
        if (w_.c_ > 0) delete_suffix = true;
      }
    }
    if (!delete_suffix) return;
    w_.c_ = w_.size() - before_suffix;
    const int at_suffix = w_.c_;
    if (!w_.GoToVowelB()) return;
    w_.c_ = at_suffix;
    w_.SliceDel();
    w_.ket_ = w_.c_;
    w_.bra_ = w_.c_;
    const int end = w_.size() - w_.c_;
    r = w_.FindAmongB(kStep1bEnding);
    if (r == 1) {
      w_.SliceFrom("e");
      return;
    }
    if (r == 2) {
      const bool keep = w_.c_ == 1 && (w_.at(0) == 'a' || w_.at(0) == 'e' || w_.at(0) == 'o');
      if (keep) return;
      w_.c_ = w_.size() - end;
      w_.ket_ = w_.c_;
      if (w_.c_ <= 0) return;
      --w_.c_;
      w_.bra_ = w_.c_;
      w_.SliceDel();
      return;
    }
    if (w_.c_ != w_.p1_) return;
    if (!ShortV()) return;
    w_.c_ = w_.size() - end;
    w_.SliceFrom("e");
  }

  void Step1c() {
    w_.ket_ = w_.c_;
    if (!w_.CharB('y') && !w_.CharB('Y')) return;
    w_.bra_ = w_.c_;
    if (!w_.OutVowelB()) return;
    if (w_.c_ <= 0) return;
    w_.SliceFrom("i");
  }

  void Step2() {
    w_.ket_ = w_.c_;
    const int r = w_.FindAmongB(kStep2);
    if (r == 0) return;
    w_.bra_ = w_.c_;
    if (!R1()) return;
    if (r == 14) {
      if (!w_.CharB('l')) return;
      w_.SliceFrom("og");
    } else if (r == 16) {
      if (w_.c_ <= 0 || !SnowballWord<Char>::IsValidLi(w_.at(w_.c_ - 1))) return;
      --w_.c_;
      w_.SliceDel();
    } else {
      w_.SliceFrom(kStep2Replacement[static_cast<size_t>(r)]);
    }
  }

  void Step3() {
    w_.ket_ = w_.c_;
    const int r = w_.FindAmongB(kStep3);
    if (r == 0) return;
    w_.bra_ = w_.c_;
    if (!R1()) return;
    if (r == 5) {
      w_.SliceDel();
    } else if (r == 6) {
      if (R2()) w_.SliceDel();
    } else {
      w_.SliceFrom(kStep3Replacement[static_cast<size_t>(r)]);
    }
  }

  void Step4() {
    w_.ket_ = w_.c_;
    const int r = w_.FindAmongB(kStep4);
    if (r == 0) return;
    w_.bra_ = w_.c_;
    if (!R2()) return;
    if (r == 1) {
      w_.SliceDel();
    } else if (w_.CharB('s') || w_.CharB('t')) {
      w_.SliceDel();
    }
  }

  void Step5() {
    w_.ket_ = w_.c_;
    const int r = w_.FindAmongB(kStep5);
    if (r == 0) return;
    w_.bra_ = w_.c_;
    if (r == 1) {
      if (!R2()) {
        if (!R1()) return;
        const int at = w_.c_;
        if (ShortV()) return;
        w_.c_ = at;
      }
      w_.SliceDel();
    } else {
      if (!R2() || !w_.CharB('l')) return;
      w_.SliceDel();
    }
  }

  void Postlude() {
    if (!w_.y_found_) return;
    for (auto& ch : w_.str()) {
      if (ch == 'Y') ch = 'y';
    }
  }

  SnowballWord<Char>& w_;
};

bool IsAscii(const std::string& s) {
  for (char ch : s) {
    if (static_cast<unsigned char>(ch) >= 0x80) return false;
  }
  return true;
}

std::u32string DecodeUtf8(const std::string& s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) out.push_back(NextCodePoint(s, &i));
  return out;
}

}  // namespace

void StemEnglish(std::string* word) {
  if (IsAscii(*word)) {
    SnowballWord<char> w(std::move(*word));
    EnglishStemmer<char>(&w).Stem();
    *word = std::move(w.str());
    word->resize(static_cast<size_t>(w.size()));
    return;
  }
  SnowballWord<char32_t> w(DecodeUtf8(*word));
  EnglishStemmer<char32_t>(&w).Stem();
  word->clear();
  for (int i = 0; i < w.size(); ++i) AppendUtf8(w.at(i), word);
}

}  // namespace augurdb::text
