// DocumentStore (documents by slot) and the where_document filter.
#include "db/document_store.h"

#include <gtest/gtest.h>

#include <string>

namespace augurdb::db {
namespace {

TEST(DocumentStoreTest, SetReplaceClearAndCount) {
  DocumentStore store;
  EXPECT_EQ(store.Get(3), nullptr);
  store.Set(3, "alpha");
  store.Set(0, "");  // an empty document is a document
  EXPECT_EQ(store.count(), 2u);
  EXPECT_EQ(*store.Get(3), "alpha");
  EXPECT_TRUE(store.Has(0));
  EXPECT_FALSE(store.Has(1));
  store.Set(3, "beta");
  EXPECT_EQ(store.count(), 2u);
  EXPECT_EQ(*store.Get(3), "beta");
  const size_t before = store.MemoryBytes();
  store.Clear(3);
  store.Clear(3);  // clearing twice is harmless
  store.Clear(99);
  EXPECT_EQ(store.count(), 1u);
  EXPECT_EQ(store.Get(3), nullptr);
  EXPECT_LE(store.MemoryBytes(), before);
}

TEST(DocumentStoreTest, ContainsAndNotContainsFilter) {
  DocumentStore store;
  store.Set(0, "the red fox");
  store.Set(1, "a blue whale");
  // slot 2 has no document
  filter::Bitset all(3);
  for (uint32_t s = 0; s < 3; ++s) all.Set(s);

  Result<DocumentFilter> contains = ParseDocumentFilter(R"({"$contains": "red"})");
  ASSERT_TRUE(contains.ok());
  filter::Bitset m = all;
  ApplyDocumentFilter(*contains, store, &m);
  EXPECT_TRUE(m.Test(0));
  EXPECT_FALSE(m.Test(1));
  EXPECT_FALSE(m.Test(2));

  Result<DocumentFilter> not_contains = ParseDocumentFilter(R"({"$not_contains": "red"})");
  ASSERT_TRUE(not_contains.ok());
  m = all;
  ApplyDocumentFilter(*not_contains, store, &m);
  EXPECT_FALSE(m.Test(0));
  EXPECT_TRUE(m.Test(1));
  EXPECT_TRUE(m.Test(2));  // no document: contains nothing

  m = all;
  m.Reset(1);  // slots the where-filter already excluded stay excluded
  ApplyDocumentFilter(*not_contains, store, &m);
  EXPECT_FALSE(m.Test(1));
}

TEST(DocumentStoreTest, MalformedFiltersAreInvalidFilter) {
  for (const char* bad : {"", "[]", R"({"$contains": 1})", R"({"$regex": "a"})",
                          R"({"$contains": "a", "$not_contains": "b"})", "{"}) {
    EXPECT_EQ(ParseDocumentFilter(bad).status().code(), StatusCode::kInvalidFilter) << bad;
  }
}

}  // namespace
}  // namespace augurdb::db
