#include "storage/wal.h"

#include <algorithm>
#include <vector>

#include "util/coding.h"
#include "util/crc32c.h"

namespace augurdb::storage {

std::string EncodeWalRecord(uint8_t type, std::string_view payload) {
  std::string out;
  out.reserve(kWalHeaderSize + payload.size());
  PutFixed32(&out, crc32c::Mask(crc32c::Value(payload.data(), payload.size())));
  PutFixed32(&out, static_cast<uint32_t>(payload.size()));
  out.push_back(static_cast<char>(type));
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out.data() + 4, 5)));
  out.append(payload.data(), payload.size());
  return out;
}

WalWriter::WalWriter(std::unique_ptr<WritableFile> file, std::string path)
    : file_(std::move(file)), path_(std::move(path)) {
  written_ = synced_ = file_->size();
}

WalWriter::~WalWriter() { (void)file_->Close(); }

uint64_t WalWriter::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return written_;
}

Status WalWriter::Append(uint8_t type, std::string_view payload, uint64_t* end_offset) {
  if (payload.size() > kWalMaxRecordBytes) {
    return Status::InvalidArgument("WAL record of " + std::to_string(payload.size()) +
                                   " bytes exceeds the 1 GiB limit; split the batch");
  }
  const std::string record = EncodeWalRecord(type, payload);
  std::lock_guard<std::mutex> lock(mutex_);
  AUGUR_RETURN_IF_ERROR(sticky_error_);
  Status s = file_->Append(record);
  if (!s.ok()) {
    // The file may now end in a partial record; further appends would follow garbage.
    sticky_error_ = s;
    return s;
  }
  written_ += record.size();
  *end_offset = written_;
  return Status::OK();
}

Status WalWriter::SyncTo(uint64_t offset) {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    AUGUR_RETURN_IF_ERROR(sticky_error_);
    if (synced_ >= offset) return Status::OK();
    if (!syncing_) break;
    synced_cv_.wait(lock);  // another caller's fsync may cover us
  }
  syncing_ = true;
  const uint64_t target = written_;
  lock.unlock();
  Status s = file_->Sync();
  lock.lock();
  syncing_ = false;
  if (s.ok()) {
    synced_ = std::max(synced_, target);
  } else {
    // After a failed fsync the kernel may have dropped dirty pages: nothing is known durable.
    sticky_error_ = s;
  }
  synced_cv_.notify_all();
  return s;
}

Status WalWriter::Sync() {
  uint64_t target;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    target = written_;
  }
  return SyncTo(target);
}

Result<WalReadResult> ReadWal(Env* env, const std::string& path,
                              const std::function<Status(uint8_t, std::string_view)>& apply) {
  AUGUR_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, env->NewRandomAccessFile(path));
  return ReadWal(*file, path, apply);
}

Result<WalReadResult> ReadWal(const RandomAccessFile& opened, const std::string& path,
                              const std::function<Status(uint8_t, std::string_view)>& apply) {
  const RandomAccessFile* file = &opened;
  const uint64_t size = file->size();
  WalReadResult result;
  uint64_t offset = 0;
  std::vector<char> buffer;
  char header[kWalHeaderSize];
  auto corrupt = [&](const std::string& why) {
    return Status::Corruption("WAL " + path + " is corrupt at offset " + std::to_string(offset) +
                              ": " + why + " (" + std::to_string(size - offset) +
                              " bytes follow; not a torn write)");
  };
  // True if every byte from `from` to the end is zero (a tail some file systems leave after a
  // crash: the size was extended but the data never written).
  auto zero_tail = [&](uint64_t from) -> Result<bool> {
    std::vector<char> chunk(1 << 16);
    for (uint64_t pos = from; pos < size;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), size - pos));
      AUGUR_RETURN_IF_ERROR(file->Read(pos, n, chunk.data()));
      for (size_t i = 0; i < n; ++i) {
        if (chunk[i] != 0) return false;
      }
      pos += n;
    }
    return true;
  };
  while (offset < size) {
    if (size - offset < kWalHeaderSize) break;  // torn header at the tail
    AUGUR_RETURN_IF_ERROR(file->Read(offset, kWalHeaderSize, header));
    const uint32_t payload_crc = crc32c::Unmask(DecodeFixed32(header));
    const uint32_t length = DecodeFixed32(header + 4);
    const uint8_t type = static_cast<uint8_t>(header[8]);
    const uint32_t header_crc = crc32c::Unmask(DecodeFixed32(header + 9));
    if (crc32c::Value(header + 4, 5) != header_crc) {
      // Zeros may start at any block boundary, inside this header too: if nothing but zeros
      // follows it, the log was torn here.
      AUGUR_ASSIGN_OR_RETURN(const bool zeros, zero_tail(offset + kWalHeaderSize));
      if (zeros) break;
      return corrupt("record header checksum mismatch");
    }
    const uint64_t end = offset + kWalHeaderSize + length;
    if (end > size) break;  // payload cut short at the tail
    buffer.resize(length);
    if (length > 0) AUGUR_RETURN_IF_ERROR(file->Read(offset + kWalHeaderSize, length, buffer.data()));
    if (crc32c::Value(buffer.data(), length) != payload_crc) {
      if (end == size) break;  // the last record, torn mid-write
      // Torn mid-payload with later records never written (zero-filled).
      AUGUR_ASSIGN_OR_RETURN(const bool zeros, zero_tail(end));
      if (zeros) break;
      return corrupt("payload checksum mismatch");
    }
    Status s = apply(type, std::string_view(buffer.data(), length));
    if (!s.ok()) {
      return Status(s.code(), "WAL " + path + " record at offset " + std::to_string(offset) +
                                  ": " + s.message());
    }
    offset = end;
    ++result.records;
  }
  result.valid_bytes = offset;
  result.dropped_bytes = size - offset;
  return result;
}

}  // namespace augurdb::storage
