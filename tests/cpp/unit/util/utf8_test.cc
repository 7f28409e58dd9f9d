#include "util/utf8.h"

#include <string>

#include <gtest/gtest.h>

namespace augurdb {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9"));                  // é
  EXPECT_TRUE(IsValidUtf8("\xE2\x82\xAC"));                 // €
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF"));                 // U+D7FF, last before surrogates
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));             // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));             // U+10FFFF
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));         // NUL is a code point
}

TEST(Utf8Test, RejectsMalformedSequencesAtTheirOffset) {
  EXPECT_EQ(FindInvalidUtf8("ab\xFF"), 2u);                 // never valid
  EXPECT_EQ(FindInvalidUtf8("\x80"), 0u);                   // lone continuation
  EXPECT_EQ(FindInvalidUtf8("x\xC3"), 1u);                  // truncated
  EXPECT_EQ(FindInvalidUtf8("\xC0\xAF"), 0u);               // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xE0\x80\xAF"), 0u);           // overlong, 3 bytes
  EXPECT_EQ(FindInvalidUtf8("\xF0\x80\x80\xAF"), 0u);       // overlong, 4 bytes
  EXPECT_EQ(FindInvalidUtf8("\xED\xA0\x80"), 0u);           // U+D800 surrogate
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);       // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("\xE2\x82"), 0u);               // truncated 3-byte
  EXPECT_EQ(FindInvalidUtf8("\xE2\x28\xA1"), 0u);           // bad continuation
}

}  // namespace
}  // namespace augurdb
