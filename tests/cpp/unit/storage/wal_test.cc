// WAL (storage/wal.h, docs/format/wal.md): record layout, round trips, torn tails, corruption
// sweeps, zero-filled tails, group commit and sticky I/O errors. Files live in a fresh temporary
// directory and are read and written only through storage::Env.
#include "support/file_helpers.h"
#include "storage/wal.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "db/record_codec.h"
#include "storage/env.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace augurdb::storage {
namespace {

using Records = std::vector<std::pair<uint8_t, std::string>>;

Env* env() { return Env::Default(); }

std::string MakeTempDir() { return augurdb::testing::MakeTempDir("wal"); }
using augurdb::testing::ReadAll;
using augurdb::testing::WriteAll;

struct ReadOutcome {
  Status status;
  WalReadResult result;
  Records records;
};

ReadOutcome Read(const std::string& path) {
  ReadOutcome out;
  Result<WalReadResult> r = ReadWal(env(), path, [&](uint8_t type, std::string_view payload) {
    out.records.emplace_back(type, std::string(payload));
    return Status::OK();
  });
  if (r.ok()) {
    out.result = *r;
  } else {
    out.status = r.status();
  }
  return out;
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }
  std::string Path(const std::string& name) const { return JoinPath(dir_, name); }

  // Writes `records` through a WalWriter; returns the offset at which each record starts, plus
  // the final size as the last element.
  std::vector<uint64_t> WriteLog(const std::string& path, const Records& records) {
    auto file = env()->NewWritableFile(path);
    EXPECT_TRUE(file.ok());
    WalWriter writer(std::move(file).value(), path);
    std::vector<uint64_t> starts{0};
    for (const auto& [type, payload] : records) {
      uint64_t end = 0;
      EXPECT_TRUE(writer.Append(type, payload, &end).ok());
      EXPECT_EQ(end, starts.back() + kWalHeaderSize + payload.size());
      starts.push_back(end);
    }
    EXPECT_TRUE(writer.Sync().ok());
    return starts;
  }

  std::string dir_;
};

// ---------------------------------------------------------------- record layout

TEST(Crc32c, KnownVectors) {
  // RFC 3720 B.4 / the usual check value of CRC-32C.
  EXPECT_EQ(crc32c::Value("123456789", 9), 0xe3069283u);
  const std::string zeros(32, '\0');
  EXPECT_EQ(crc32c::Value(zeros.data(), zeros.size()), 0x8a9136aau);
  EXPECT_EQ(crc32c::Extend(crc32c::Value("1234", 4), "56789", 5), 0xe3069283u);
  for (uint32_t v : {0u, 1u, 0xe3069283u, 0xffffffffu}) {
    EXPECT_EQ(crc32c::Unmask(crc32c::Mask(v)), v);
    EXPECT_NE(crc32c::Mask(v), v);
  }
}

TEST(WalFormat, RecordLayoutIsPinned) {
  // docs/format/wal.md: [masked crc(payload) u32][len u32][type u8][masked crc(len+type) u32].
  static_assert(kWalHeaderSize == 13);
  const std::string payload = "hello, wal";
  const std::string rec = EncodeWalRecord(7, payload);
  ASSERT_EQ(rec.size(), kWalHeaderSize + payload.size());
  EXPECT_EQ(DecodeFixed32(rec.data()), crc32c::Mask(crc32c::Value(payload.data(), payload.size())));
  EXPECT_EQ(DecodeFixed32(rec.data() + 4), payload.size());
  EXPECT_EQ(static_cast<uint8_t>(rec[8]), 7);
  EXPECT_EQ(DecodeFixed32(rec.data() + 9), crc32c::Mask(crc32c::Value(rec.data() + 4, 5)));
  EXPECT_EQ(rec.substr(kWalHeaderSize), payload);
  // Little-endian length, spelled out byte by byte.
  const std::string big = EncodeWalRecord(1, std::string(0x010203, 'x'));
  EXPECT_EQ(static_cast<uint8_t>(big[4]), 0x03);
  EXPECT_EQ(static_cast<uint8_t>(big[5]), 0x02);
  EXPECT_EQ(static_cast<uint8_t>(big[6]), 0x01);
  EXPECT_EQ(static_cast<uint8_t>(big[7]), 0x00);
  // Golden bytes for an empty payload of type 1 (a format change must update docs and this).
  const std::string empty = EncodeWalRecord(1, "");
  ASSERT_EQ(empty.size(), kWalHeaderSize);
  EXPECT_EQ(DecodeFixed32(empty.data()), crc32c::Mask(0));
  EXPECT_EQ(DecodeFixed32(empty.data() + 4), 0u);
  EXPECT_EQ(empty[8], 1);
}

// ---------------------------------------------------------------- round trips

TEST_F(WalTest, RoundTripVariedSizes) {
  Records records;
  const size_t sizes[] = {0, 1, 12, 13, 100, 4095, 4096, 4097, 70000, 1 << 20};
  for (size_t i = 0; i < std::size(sizes); ++i) {
    records.emplace_back(static_cast<uint8_t>(i * 37), RandomBytes(sizes[i], i));
  }
  const std::string path = Path("wal.log");
  const std::vector<uint64_t> starts = WriteLog(path, records);
  ReadOutcome out = Read(path);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.records, records);
  EXPECT_EQ(out.result.records, records.size());
  EXPECT_EQ(out.result.valid_bytes, starts.back());
  EXPECT_EQ(out.result.dropped_bytes, 0u);
  EXPECT_EQ(ReadAll(path).size(), starts.back());
}

TEST_F(WalTest, EmptyLogHasNoRecords) {
  const std::string path = Path("empty.log");
  WriteAll(path, "");
  ReadOutcome out = Read(path);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.result.records, 0u);
  EXPECT_EQ(out.result.valid_bytes, 0u);
  EXPECT_EQ(out.result.dropped_bytes, 0u);
}

TEST_F(WalTest, MissingLogIsNotFound) {
  ReadOutcome out = Read(Path("nope.log"));
  EXPECT_EQ(out.status.code(), StatusCode::kNotFound) << out.status.ToString();
}

TEST_F(WalTest, WriterReopenedOnExistingLogAppendsAfterIt) {
  const std::string path = Path("wal.log");
  const std::vector<uint64_t> starts = WriteLog(path, {{1, "first"}, {2, "second"}});
  auto file = env()->NewAppendableFile(path);
  ASSERT_TRUE(file.ok());
  WalWriter writer(std::move(file).value(), path);
  EXPECT_EQ(writer.size(), starts.back());
  uint64_t end = 0;
  ASSERT_TRUE(writer.Append(3, "third", &end).ok());
  EXPECT_EQ(end, starts.back() + kWalHeaderSize + 5);
  ASSERT_TRUE(writer.SyncTo(end).ok());
  ReadOutcome out = Read(path);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.records, (Records{{1, "first"}, {2, "second"}, {3, "third"}}));
}

TEST_F(WalTest, ApplyErrorStopsReplayAndNamesTheRecord) {
  const std::string path = Path("wal.log");
  const std::vector<uint64_t> starts = WriteLog(path, {{1, "a"}, {1, "b"}, {1, "c"}});
  int calls = 0;
  Result<WalReadResult> r = ReadWal(env(), path, [&](uint8_t, std::string_view p) {
    ++calls;
    return p == "b" ? Status::Corruption("bad payload") : Status::OK();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("offset " + std::to_string(starts[1])), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("bad payload"), std::string::npos);
  EXPECT_EQ(calls, 2);
}

// WAL payloads are encoded by the db layer (db/record_codec.h); their round trips are checked
// here beside the container format they travel in.
TEST(WalPayloadCodec, PutRoundTripIntIdsWithMetadata) {
  const std::vector<int64_t> ids = {-5, 0, 1LL << 40};
  const std::vector<float> vecs = {1, 2, 3, 4, 5, 6, 7, 8, 9, -0.0f, 1e-30f, 3.5e30f};
  std::vector<Metadata> meta(3);
  meta[0]["s"] = Value(std::string("text \xe2\x9c\x93"));
  meta[0]["i"] = Value(int64_t{-42});
  meta[1]["d"] = Value(2.5);
  meta[1]["b"] = Value(true);
  meta[1]["n"] = Value();
  meta[2]["l"] = Value(Value::List{Value(int64_t{1}), Value(std::string("x")), Value(false)});
  std::string bytes;
  db::EncodePut(IdsView::Ints(ids), MatrixView{vecs.data(), 3, 4, 0}, meta, {}, &bytes);
  db::PutOp op;
  ASSERT_TRUE(db::DecodePut(bytes, false, &op).ok());
  EXPECT_FALSE(op.string_ids);
  EXPECT_EQ(op.int_ids, ids);
  EXPECT_EQ(op.dim, 4u);
  EXPECT_EQ(0, std::memcmp(op.vectors.data(), vecs.data(), vecs.size() * sizeof(float)));
  ASSERT_EQ(op.metadata.size(), 3u);
  EXPECT_EQ(op.metadata, meta);
  // Every strict prefix is malformed, never a crash or a silent success.
  for (size_t n = 0; n < bytes.size(); ++n) {
    db::PutOp partial;
    EXPECT_EQ(db::DecodePut(std::string_view(bytes).substr(0, n), false, &partial).code(),
              StatusCode::kCorruption)
        << n;
  }
}

TEST(WalPayloadCodec, PutRoundTripStringIdsStridedNoMetadata) {
  const std::vector<std::string> ids = {"", "a", std::string(300, 'z')};
  // Row stride 3 floats, dim 2: the encoder must skip the padding column.
  const std::vector<float> vecs = {1, 2, 99, 3, 4, 99, 5, 6, 99};
  std::string bytes;
  db::EncodePut(IdsView::Strings(ids), MatrixView{vecs.data(), 3, 2, 3}, {}, {}, &bytes);
  db::PutOp op;
  ASSERT_TRUE(db::DecodePut(bytes, false, &op).ok());
  EXPECT_TRUE(op.string_ids);
  EXPECT_EQ(op.str_ids, ids);
  EXPECT_EQ(op.vectors, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(op.metadata.empty());
}

TEST(WalPayloadCodec, DeleteRoundTrip) {
  const std::vector<int64_t> ints = {3, -1, 7};
  std::string bytes;
  db::EncodeDelete(IdsView::Ints(ints), &bytes);
  db::DeleteOp op;
  ASSERT_TRUE(db::DecodeDelete(bytes, &op).ok());
  EXPECT_FALSE(op.string_ids);
  EXPECT_EQ(op.int_ids, ints);
  const std::vector<std::string> strs = {"x", "yy"};
  bytes.clear();
  db::EncodeDelete(IdsView::Strings(strs), &bytes);
  db::DeleteOp sop;
  ASSERT_TRUE(db::DecodeDelete(bytes, &sop).ok());
  EXPECT_TRUE(sop.string_ids);
  EXPECT_EQ(sop.str_ids, strs);
  bytes.push_back('!');
  db::DeleteOp trailing;
  EXPECT_EQ(db::DecodeDelete(bytes, &trailing).code(), StatusCode::kCorruption);
}

TEST(WalPayloadCodec, ParamsRoundTrip) {
  db::StoredParams p;
  p.dim = 768;
  p.metric = Metric::kCosine;
  p.m = 24;
  p.ef_construction = 123;
  p.ef_search = 77;
  p.seed = 0xfeedfacecafebeefULL;
  p.id_kind = IdKind::kString;
  db::StoredParams q;
  ASSERT_TRUE(db::DecodeParams(db::EncodeParams(p), &q).ok());
  EXPECT_EQ(q.dim, p.dim);
  EXPECT_EQ(q.metric, p.metric);
  EXPECT_EQ(q.m, p.m);
  EXPECT_EQ(q.ef_construction, p.ef_construction);
  EXPECT_EQ(q.ef_search, p.ef_search);
  EXPECT_EQ(q.seed, p.seed);
  EXPECT_EQ(q.id_kind, p.id_kind);
  std::string newer = db::EncodeParams(p);
  newer[0] = 5;  // params block version 5 is unknown
  EXPECT_EQ(db::DecodeParams(newer, &q).code(), StatusCode::kCorruption);
  for (Quantization quant : {Quantization::kSq8, Quantization::kSq4}) {
    p.quantization = quant;
    ASSERT_TRUE(db::DecodeParams(db::EncodeParams(p), &q).ok());
    EXPECT_EQ(q.quantization, quant);
  }
  std::string future = db::EncodeParams(p);
  // The block ends quantization byte, tokenizer byte, embedding function (a fixed32 length,
  // 0 here).
  future[future.size() - 6] = 3;  // the quantization byte: code 3 is from a newer AugurDB
  EXPECT_EQ(db::DecodeParams(future, &q).code(), StatusCode::kNotSupported);
  future = db::EncodeParams(p);
  future[future.size() - 5] = 3;  // the tokenizer byte: code 3 is from a newer AugurDB
  EXPECT_EQ(db::DecodeParams(future, &q).code(), StatusCode::kNotSupported);
  p.tokenizer = 2;
  ASSERT_TRUE(db::DecodeParams(db::EncodeParams(p), &q).ok());
  EXPECT_EQ(q.tokenizer, 2);
  // Block version 3 had no embedding function: it decodes with none.
  std::string v3 = db::EncodeParams(p);
  v3.resize(v3.size() - 4);
  v3[0] = 3;
  q.embedding_function = "stale";
  ASSERT_TRUE(db::DecodeParams(v3, &q).ok());
  EXPECT_EQ(q.embedding_function, "");
  p.embedding_function = R"({"name": "onnx", "config": {"model_sha256": "ab"}})";
  ASSERT_TRUE(db::DecodeParams(db::EncodeParams(p), &q).ok());
  EXPECT_EQ(q.embedding_function, p.embedding_function);
  EXPECT_EQ(db::DecodeParams(db::EncodeParams(p) + "x", &q).code(), StatusCode::kCorruption);
  const std::string full = db::EncodeParams(p);
  for (size_t n = 0; n < full.size(); ++n) {  // every strict prefix
    EXPECT_EQ(db::DecodeParams(full.substr(0, n), &q).code(), StatusCode::kCorruption)
        << n;
  }
}

// ---------------------------------------------------------------- torn tails

TEST_F(WalTest, TornTailAtEveryByteOfTheLastRecord) {
  const Records records = {{1, RandomBytes(50, 1)}, {2, RandomBytes(20, 2)}, {1, RandomBytes(40, 3)}};
  const std::string full_path = Path("full.log");
  const std::vector<uint64_t> starts = WriteLog(full_path, records);
  const std::string full = ReadAll(full_path);
  const uint64_t last = starts[2];
  const std::string path = Path("torn.log");
  for (uint64_t cut = last; cut < full.size(); ++cut) {
    WriteAll(path, std::string_view(full).substr(0, cut));
    ReadOutcome out = Read(path);
    ASSERT_TRUE(out.status.ok()) << "cut at " << cut << ": " << out.status.ToString();
    EXPECT_EQ(out.records, Records(records.begin(), records.begin() + 2)) << cut;
    EXPECT_EQ(out.result.records, 2u) << cut;
    EXPECT_EQ(out.result.valid_bytes, last) << cut;
    EXPECT_EQ(out.result.dropped_bytes, cut - last) << cut;
  }
}

TEST_F(WalTest, TornTailInsideTheOnlyRecord) {
  const std::string full = EncodeWalRecord(1, RandomBytes(30, 9));
  const std::string path = Path("torn.log");
  for (size_t cut = 1; cut < full.size(); ++cut) {
    WriteAll(path, std::string_view(full).substr(0, cut));
    ReadOutcome out = Read(path);
    ASSERT_TRUE(out.status.ok()) << cut << ": " << out.status.ToString();
    EXPECT_EQ(out.result.records, 0u);
    EXPECT_EQ(out.result.dropped_bytes, cut);
  }
}

TEST_F(WalTest, LastRecordWithBadPayloadChecksumIsATornTail) {
  const Records records = {{1, "alpha"}, {1, "bravo"}, {1, "charlie"}};
  const std::string path = Path("wal.log");
  const std::vector<uint64_t> starts = WriteLog(path, records);
  std::string bytes = ReadAll(path);
  for (uint64_t pos = starts[2] + kWalHeaderSize; pos < starts[3]; ++pos) {
    std::string damaged = bytes;
    damaged[pos] ^= 0x5a;
    WriteAll(path, damaged);
    ReadOutcome out = Read(path);
    ASSERT_TRUE(out.status.ok()) << pos << ": " << out.status.ToString();
    EXPECT_EQ(out.result.records, 2u);
    EXPECT_EQ(out.result.valid_bytes, starts[2]);
    EXPECT_EQ(out.result.dropped_bytes, starts[3] - starts[2]);
  }
}

// ---------------------------------------------------------------- corruption sweeps

TEST_F(WalTest, EveryByteFlipOfAMiddleRecordIsCorruptionNamingItsOffset) {
  const Records records = {{1, RandomBytes(25, 4)}, {2, RandomBytes(33, 5)}, {1, RandomBytes(17, 6)}};
  const std::string path = Path("wal.log");
  const std::vector<uint64_t> starts = WriteLog(path, records);
  const std::string bytes = ReadAll(path);
  const std::string flipped_path = Path("flipped.log");
  for (uint64_t pos = starts[1]; pos < starts[2]; ++pos) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      std::string damaged = bytes;
      damaged[pos] = static_cast<char>(damaged[pos] ^ mask);
      WriteAll(flipped_path, damaged);
      ReadOutcome out = Read(flipped_path);
      ASSERT_EQ(out.status.code(), StatusCode::kCorruption)
          << "byte " << pos << " mask " << int{mask} << ": " << out.status.ToString();
      EXPECT_NE(out.status.message().find("offset " + std::to_string(starts[1])),
                std::string::npos)
          << out.status.message();
      EXPECT_NE(out.status.message().find(flipped_path), std::string::npos);
      // Records before the damage were replayed; nothing after it.
      EXPECT_EQ(out.records, Records(records.begin(), records.begin() + 1)) << pos;
    }
  }
}

TEST_F(WalTest, EveryByteFlipOfTheFirstRecordHeaderIsCorruption) {
  const Records records = {{1, "one"}, {1, "two"}};
  const std::string path = Path("wal.log");
  WriteLog(path, records);
  const std::string bytes = ReadAll(path);
  for (size_t pos = 0; pos < kWalHeaderSize; ++pos) {
    std::string damaged = bytes;
    damaged[pos] ^= 0x10;
    WriteAll(path, damaged);
    ReadOutcome out = Read(path);
    ASSERT_EQ(out.status.code(), StatusCode::kCorruption) << pos << ": " << out.status.ToString();
    EXPECT_NE(out.status.message().find("offset 0"), std::string::npos);
    EXPECT_TRUE(out.records.empty());
  }
}

TEST_F(WalTest, GarbageAfterTheLastRecordIsCorruption) {
  const std::string path = Path("wal.log");
  const std::vector<uint64_t> starts = WriteLog(path, {{1, "one"}, {1, "two"}});
  std::string bytes = ReadAll(path) + std::string(40, '\x17');
  WriteAll(path, bytes);
  ReadOutcome out = Read(path);
  EXPECT_EQ(out.status.code(), StatusCode::kCorruption) << out.status.ToString();
  EXPECT_NE(out.status.message().find("offset " + std::to_string(starts.back())),
            std::string::npos);
}

// ---------------------------------------------------------------- zero-filled tails

TEST_F(WalTest, ZeroFilledTailAtARecordBoundaryIsDropped) {
  const Records records = {{1, "one"}, {2, "two"}, {1, "three"}};
  const std::string path = Path("wal.log");
  const std::vector<uint64_t> starts = WriteLog(path, records);
  const std::string bytes = ReadAll(path);
  for (size_t zeros : {size_t{1}, size_t{12}, size_t{13}, size_t{14}, size_t{4096}, size_t{70000}}) {
    WriteAll(path, bytes + std::string(zeros, '\0'));
    ReadOutcome out = Read(path);
    ASSERT_TRUE(out.status.ok()) << zeros << ": " << out.status.ToString();
    EXPECT_EQ(out.records, records);
    EXPECT_EQ(out.result.valid_bytes, starts.back());
    EXPECT_EQ(out.result.dropped_bytes, zeros);
  }
}

// A file system that extends the file before its data reaches the disk (ext4 data=writeback,
// old XFS) leaves zeros from a block boundary on, and a block boundary may fall inside a record,
// followed by later records that were never written either. That is a torn tail, not damage.
TEST_F(WalTest, ZeroFilledTailStartingInsideARecordIsDropped) {
  const Records records = {{1, RandomBytes(40, 7)}, {2, RandomBytes(60, 8)}, {1, RandomBytes(30, 9)},
                           {1, RandomBytes(30, 10)}};
  const std::string path = Path("wal.log");
  const std::vector<uint64_t> starts = WriteLog(path, records);
  const std::string bytes = ReadAll(path);
  // Zeros start inside record 2 (header or payload); records 2 and 3 are gone.
  for (uint64_t zero_from = starts[2] + 1; zero_from < starts[3]; ++zero_from) {
    std::string damaged = bytes;
    std::memset(damaged.data() + zero_from, 0, damaged.size() - zero_from);
    WriteAll(path, damaged);
    ReadOutcome out = Read(path);
    ASSERT_TRUE(out.status.ok()) << "zeros from " << zero_from << ": " << out.status.ToString();
    EXPECT_EQ(out.records, Records(records.begin(), records.begin() + 2)) << zero_from;
    EXPECT_EQ(out.result.valid_bytes, starts[2]);
    EXPECT_EQ(out.result.dropped_bytes, bytes.size() - starts[2]);
  }
}

// ---------------------------------------------------------------- writer: group commit, errors

// Forwards to a real file, counting syncs and remembering how many bytes each completed sync
// covered. Each sync is slowed down so concurrent callers pile up behind it.
class CountingFile final : public WritableFile {
 public:
  explicit CountingFile(std::unique_ptr<WritableFile> base) : base_(std::move(base)) {}
  Status Append(std::string_view data) override {
    if (fail_append_.load()) return Status::IOError("injected append failure");
    Status s = base_->Append(data);
    appended_.fetch_add(data.size());
    return s;
  }
  Status Sync() override {
    const uint64_t covered = appended_.load();
    if (fail_sync_.load()) return Status::IOError("injected fsync failure");
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    Status s = base_->Sync();
    if (s.ok()) {
      syncs_.fetch_add(1);
      uint64_t seen = durable_.load();
      while (covered > seen && !durable_.compare_exchange_weak(seen, covered)) {
      }
    }
    return s;
  }
  Status Close() override { return base_->Close(); }
  uint64_t size() const override { return base_->size(); }

  std::atomic<bool> fail_append_{false};
  std::atomic<bool> fail_sync_{false};
  std::atomic<uint64_t> appended_{0};
  std::atomic<uint64_t> durable_{0};  // bytes covered by the latest completed sync
  std::atomic<uint64_t> syncs_{0};

 private:
  std::unique_ptr<WritableFile> base_;
};

TEST_F(WalTest, GroupCommitConcurrentAppendAndSyncTo) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 150;
  const std::string path = Path("wal.log");
  auto base = env()->NewWritableFile(path);
  ASSERT_TRUE(base.ok());
  auto counting = std::make_unique<CountingFile>(std::move(base).value());
  CountingFile* file = counting.get();
  WalWriter writer(std::move(counting), path);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string payload = std::to_string(t) + ":" + std::to_string(i) + ":" +
                              RandomBytes(static_cast<size_t>(i % 50), static_cast<uint64_t>(t * 1000 + i));
        uint64_t end = 0;
        if (!writer.Append(static_cast<uint8_t>(t), payload, &end).ok()) ++failures;
        if (!writer.SyncTo(end).ok()) ++failures;
        // The contract of SyncTo: durable at least up to `end` when it returns.
        if (file->durable_.load() < end) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  const uint64_t records = uint64_t{kThreads} * kPerThread;
  EXPECT_LT(file->syncs_.load(), records) << "concurrent SyncTo calls never shared an fsync";
  EXPECT_GE(file->syncs_.load(), 1u);
  std::printf("group commit: %llu records, %llu fsyncs\n",
              static_cast<unsigned long long>(records),
              static_cast<unsigned long long>(file->syncs_.load()));

  ReadOutcome out = Read(path);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_EQ(out.result.records, records);
  EXPECT_EQ(out.result.dropped_bytes, 0u);
  std::map<int, int> next;  // per thread, records appear in the order that thread wrote them
  for (const auto& [type, payload] : out.records) {
    const int t = type;
    const size_t colon = payload.find(':');
    const size_t colon2 = payload.find(':', colon + 1);
    ASSERT_EQ(payload.substr(0, colon), std::to_string(t));
    const int i = std::stoi(payload.substr(colon + 1, colon2 - colon - 1));
    EXPECT_EQ(i, next[t]) << "thread " << t;
    next[t] = i + 1;
    EXPECT_EQ(payload.substr(colon2 + 1),
              RandomBytes(static_cast<size_t>(i % 50), static_cast<uint64_t>(t * 1000 + i)));
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], kPerThread);
}

TEST_F(WalTest, SyncToAnOffsetAlreadyDurableDoesNotSync) {
  const std::string path = Path("wal.log");
  auto base = env()->NewWritableFile(path);
  ASSERT_TRUE(base.ok());
  auto counting = std::make_unique<CountingFile>(std::move(base).value());
  CountingFile* file = counting.get();
  WalWriter writer(std::move(counting), path);
  uint64_t first = 0, second = 0;
  ASSERT_TRUE(writer.Append(1, "a", &first).ok());
  ASSERT_TRUE(writer.Append(1, "b", &second).ok());
  ASSERT_TRUE(writer.SyncTo(second).ok());
  EXPECT_EQ(file->syncs_.load(), 1u);
  ASSERT_TRUE(writer.SyncTo(first).ok());
  ASSERT_TRUE(writer.SyncTo(second).ok());
  ASSERT_TRUE(writer.Sync().ok());
  EXPECT_EQ(file->syncs_.load(), 1u);
}

TEST_F(WalTest, FailedSyncIsStickyAndNothingIsAcknowledged) {
  const std::string path = Path("wal.log");
  auto base = env()->NewWritableFile(path);
  ASSERT_TRUE(base.ok());
  auto counting = std::make_unique<CountingFile>(std::move(base).value());
  CountingFile* file = counting.get();
  WalWriter writer(std::move(counting), path);
  uint64_t end = 0;
  ASSERT_TRUE(writer.Append(1, "a", &end).ok());
  ASSERT_TRUE(writer.SyncTo(end).ok());
  ASSERT_TRUE(writer.Append(1, "b", &end).ok());
  file->fail_sync_ = true;
  EXPECT_EQ(writer.SyncTo(end).code(), StatusCode::kIOError);
  file->fail_sync_ = false;
  // After a failed fsync nothing more may be acknowledged: the kernel may have dropped pages.
  EXPECT_EQ(writer.SyncTo(end).code(), StatusCode::kIOError);
  EXPECT_EQ(writer.Append(1, "c", &end).code(), StatusCode::kIOError);
}

TEST_F(WalTest, FailedAppendIsSticky) {
  const std::string path = Path("wal.log");
  auto base = env()->NewWritableFile(path);
  ASSERT_TRUE(base.ok());
  auto counting = std::make_unique<CountingFile>(std::move(base).value());
  CountingFile* file = counting.get();
  WalWriter writer(std::move(counting), path);
  uint64_t end = 0;
  file->fail_append_ = true;
  EXPECT_EQ(writer.Append(1, "a", &end).code(), StatusCode::kIOError);
  file->fail_append_ = false;
  EXPECT_EQ(writer.Append(1, "b", &end).code(), StatusCode::kIOError);
  EXPECT_EQ(writer.Sync().code(), StatusCode::kIOError);
}

}  // namespace
}  // namespace augurdb::storage
