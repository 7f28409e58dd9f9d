#include "storage/checkpoint.h"

#include <cstring>

#include "util/coding.h"
#include "util/crc32c.h"

namespace augurdb::storage {
namespace {

// Layout (all little endian):
//   [0, 8)    magic "AUGURCKP"
//   [8, 12)   format version
//   [12, 16)  masked CRC32C of bytes [0, 12)        -- checked first, so that a damaged version
//                                                     field is reported as corruption
//   [16, 24)  sequence number
//   [24, 28)  section count
//   [28, 32)  meta size
//   meta bytes, then per section: kind u32, reserved u32, offset u64, size u64, masked CRC u32,
//   reserved u32 (32 bytes)
//   masked CRC32C of every header byte from 16 to here
//   section payloads, each starting at a multiple of 4096
constexpr size_t kPrefixSize = 16;
constexpr size_t kEntrySize = 32;

uint64_t AlignUp(uint64_t v) { return (v + kCheckpointAlignment - 1) / kCheckpointAlignment * kCheckpointAlignment; }

}  // namespace

Status WriteCheckpointFile(Env* env, const std::string& dir, const std::string& name,
                           uint64_t sequence, std::string_view meta,
                           const std::vector<SectionSource>& sections, bool* renamed) {
  if (renamed != nullptr) *renamed = false;
  // Header first, with the offsets the sections will have.
  std::string header(kCheckpointMagic, 8);
  PutFixed32(&header, kCheckpointFormatVersion);
  PutFixed32(&header, crc32c::Mask(crc32c::Value(header.data(), 12)));
  PutFixed64(&header, sequence);
  PutFixed32(&header, static_cast<uint32_t>(sections.size()));
  PutFixed32(&header, static_cast<uint32_t>(meta.size()));
  header.append(meta.data(), meta.size());
  uint64_t offset = AlignUp(header.size() + sections.size() * kEntrySize + 4);
  for (const SectionSource& section : sections) {
    uint64_t size = 0;
    uint32_t crc = 0;
    for (std::string_view part : section.parts) {
      size += part.size();
      crc = crc32c::Extend(crc, part.data(), part.size());
    }
    PutFixed32(&header, section.kind);
    PutFixed32(&header, 0);
    PutFixed64(&header, offset);
    PutFixed64(&header, size);
    PutFixed32(&header, crc32c::Mask(crc));
    PutFixed32(&header, 0);
    offset = AlignUp(offset + size);
  }
  PutFixed32(&header, crc32c::Mask(crc32c::Value(header.data() + kPrefixSize,
                                                 header.size() - kPrefixSize)));

  const std::string final_path = JoinPath(dir, name);
  const std::string tmp_path = final_path + ".tmp";
  AUGUR_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->NewWritableFile(tmp_path));
  const std::string zeros(kCheckpointAlignment, '\0');
  auto pad = [&]() -> Status {
    const uint64_t target = AlignUp(file->size());
    return target == file->size() ? Status::OK()
                                  : file->Append(std::string_view(zeros.data(), target - file->size()));
  };
  Status s = file->Append(header);
  if (s.ok()) s = pad();
  for (size_t i = 0; s.ok() && i < sections.size(); ++i) {
    for (std::string_view part : sections[i].parts) {
      // Large arrays go in 64 MiB slices: one write call of several GiB is not portable.
      for (size_t done = 0; s.ok() && done < part.size(); done += size_t{64} << 20) {
        s = file->Append(part.substr(done, size_t{64} << 20));
      }
      if (!s.ok()) break;
    }
    if (s.ok()) s = pad();
  }
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = file->Close();
  if (s.ok()) s = env->RenameFile(tmp_path, final_path);
  if (s.ok() && renamed != nullptr) *renamed = true;
  if (s.ok()) s = env->SyncDir(dir);
  if (!s.ok()) {
    (void)env->RemoveFile(tmp_path);  // best effort; open() also removes stale temp files
    return s;
  }
  return Status::OK();
}

Result<std::unique_ptr<CheckpointFile>> CheckpointFile::Open(Env* env, const std::string& path,
                                                             bool verify_sections) {
  AUGUR_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> mapped, env->MapFile(path));
  auto out = std::make_unique<CheckpointFile>();
  out->path_ = path;
  out->mapping_ = std::shared_ptr<MappedFile>(std::move(mapped));
  const char* base = out->mapping_->data();
  const size_t size = out->mapping_->size();
  auto corrupt = [&](size_t offset, const std::string& why) {
    return Status::Corruption("checkpoint " + path + " is corrupt at offset " +
                              std::to_string(offset) + ": " + why);
  };
  if (size < kPrefixSize) return corrupt(0, "file is " + std::to_string(size) + " bytes, too short");
  if (std::memcmp(base, kCheckpointMagic, 8) != 0) return corrupt(0, "not an AugurDB checkpoint (bad magic)");
  if (crc32c::Unmask(DecodeFixed32(base + 12)) != crc32c::Value(base, 12)) {
    return corrupt(8, "version field checksum mismatch");
  }
  const uint32_t version = DecodeFixed32(base + 8);
  if (version > kCheckpointFormatVersion) {
    return Status::NotSupported("checkpoint " + path + " has format version " +
                                std::to_string(version) + ", newer than this AugurDB supports (" +
                                std::to_string(kCheckpointFormatVersion) +
                                "); upgrade augurdb to open it");
  }
  Decoder d(base + kPrefixSize, size - kPrefixSize);
  uint64_t sequence = 0;
  uint32_t count = 0, meta_size = 0;
  std::string_view meta;
  if (!d.GetFixed64(&sequence) || !d.GetFixed32(&count) || !d.GetFixed32(&meta_size) ||
      !d.GetBytes(meta_size, &meta)) {
    return corrupt(kPrefixSize, "header truncated");
  }
  if (count > 1024) return corrupt(24, "section count " + std::to_string(count) + " is impossible");
  struct RawEntry {
    uint32_t kind;
    uint64_t offset, size;
    uint32_t crc;
  };
  std::vector<RawEntry> raw(count);
  for (RawEntry& e : raw) {
    uint32_t reserved = 0;
    if (!d.GetFixed32(&e.kind) || !d.GetFixed32(&reserved) || !d.GetFixed64(&e.offset) ||
        !d.GetFixed64(&e.size) || !d.GetFixed32(&e.crc) || !d.GetFixed32(&reserved)) {
      return corrupt(static_cast<size_t>(d.position() - base), "section table truncated");
    }
  }
  const size_t header_end = static_cast<size_t>(d.position() - base);
  uint32_t header_crc = 0;
  if (!d.GetFixed32(&header_crc)) return corrupt(header_end, "header checksum missing");
  if (crc32c::Unmask(header_crc) != crc32c::Value(base + kPrefixSize, header_end - kPrefixSize)) {
    return corrupt(kPrefixSize, "header checksum mismatch");
  }
  for (const RawEntry& e : raw) {
    if (e.offset > size || e.size > size - e.offset) {
      return corrupt(static_cast<size_t>(e.offset), "section " + std::to_string(e.kind) + " extends past the end of the file (truncated?)");
    }
    if (verify_sections && crc32c::Unmask(e.crc) != crc32c::Value(base + e.offset, e.size)) {
      return corrupt(static_cast<size_t>(e.offset), "section " + std::to_string(e.kind) + " checksum mismatch");
    }
    out->entries_.push_back(Entry{e.kind, e.offset, e.size});
  }
  out->sequence_ = sequence;
  out->meta_ = std::string(meta);
  return out;
}

std::span<char> CheckpointFile::section(uint32_t kind) const {
  for (const Entry& e : entries_) {
    if (e.kind == kind) return {mapping_->data() + e.offset, static_cast<size_t>(e.size)};
  }
  return {};
}

}  // namespace augurdb::storage
