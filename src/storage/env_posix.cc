// PosixEnv: the only file in AugurDB that calls open/write/fsync/mmap/flock directly.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "storage/env.h"

namespace augurdb::storage {
namespace {

Status PosixError(const std::string& what, const std::string& path, int err) {
  std::string msg = what + " " + path + ": " + std::strerror(err);
  if (err == ENOSPC) msg += " (disk full)";
  if (err == ENOENT) return Status::NotFound(msg);
  return Status::IOError(msg);
}

// An open descriptor with its path (for messages) and size; closes the descriptor when destroyed,
// so no error path between open(2) and handing it to a file object can leak it.
struct PosixFd {
  PosixFd(std::string path_in, int fd_in, uint64_t size_in)
      : path(std::move(path_in)), fd(fd_in), size(size_in) {}
  PosixFd(PosixFd&& other) noexcept
      : path(std::move(other.path)), fd(std::exchange(other.fd, -1)), size(other.size) {}
  PosixFd& operator=(PosixFd&&) = delete;
  ~PosixFd() {
    if (fd >= 0) ::close(fd);
  }

  std::string path;
  int fd;
  uint64_t size;
};

// Opens path and reads its size; `what` names the open in an error message.
Result<PosixFd> OpenWithSize(const std::string& path, int flags, const char* what) {
  PosixFd f(path, ::open(path.c_str(), flags | O_CLOEXEC, 0644), 0);
  if (f.fd < 0) return PosixError(what, path, errno);
  struct stat st;
  if (::fstat(f.fd, &st) != 0) return PosixError("stat", path, errno);
  f.size = static_cast<uint64_t>(st.st_size);
  return f;
}

// Moves n bytes through io(done), which transfers from byte `done` on and returns what read(2) or
// write(2) would: retries EINTR and short transfers, so a partial read or write is never silent.
// A zero-byte transfer is the end of the file, at `offset + done`.
template <typename Io>
Status TransferAll(const char* what, const std::string& path, uint64_t offset, size_t n, Io&& io) {
  size_t done = 0;
  while (done < n) {
    const ssize_t r = io(done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return PosixError(what, path, errno);
    }
    if (r == 0) {
      return Status::IOError(std::string(what) + " " + path + ": unexpected end of file at offset " +
                             std::to_string(offset + done));
    }
    done += static_cast<size_t>(r);
  }
  return Status::OK();
}

class PosixWritableFile final : public WritableFile {
 public:
  explicit PosixWritableFile(PosixFd f) : f_(std::move(f)) {}
  Status Append(std::string_view data) override {
    return TransferAll("write", f_.path, f_.size, data.size(), [&](size_t done) {
      const ssize_t n = ::write(f_.fd, data.data() + done, data.size() - done);
      if (n > 0) f_.size += static_cast<uint64_t>(n);
      return n;
    });
  }
  Status Sync() override {
    if (::fdatasync(f_.fd) != 0) return PosixError("fdatasync", f_.path, errno);
    return Status::OK();
  }
  Status Close() override {
    if (f_.fd < 0) return Status::OK();
    const int rc = ::close(std::exchange(f_.fd, -1));
    if (rc != 0) return PosixError("close", f_.path, errno);
    return Status::OK();
  }
  uint64_t size() const override { return f_.size; }

 private:
  PosixFd f_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  explicit PosixRandomAccessFile(PosixFd f) : f_(std::move(f)) {}
  Status Read(uint64_t offset, size_t n, char* scratch) const override {
    return TransferAll("read", f_.path, offset, n, [&](size_t done) {
      return ::pread(f_.fd, scratch + done, n - done, static_cast<off_t>(offset + done));
    });
  }
  uint64_t size() const override { return f_.size; }

 private:
  PosixFd f_;
};

class PosixMappedFile final : public MappedFile {
 public:
  PosixMappedFile(void* base, size_t size) : base_(base), size_(size) {}
  ~PosixMappedFile() override {
    if (base_ != nullptr) ::munmap(base_, size_);
  }
  char* data() override { return static_cast<char*>(base_); }
  size_t size() const override { return size_; }

 private:
  void* base_;
  size_t size_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("create", path, errno);
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(PosixFd(path, fd, 0)));
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    AUGUR_ASSIGN_OR_RETURN(PosixFd f, OpenWithSize(path, O_WRONLY | O_CREAT | O_APPEND, "open"));
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(std::move(f)));
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    AUGUR_ASSIGN_OR_RETURN(PosixFd f, OpenWithSize(path, O_RDONLY, "open"));
    return std::unique_ptr<RandomAccessFile>(std::make_unique<PosixRandomAccessFile>(std::move(f)));
  }
  Result<std::unique_ptr<MappedFile>> MapFile(const std::string& path) override {
    // The descriptor closes on return; the mapping keeps the file contents reachable.
    AUGUR_ASSIGN_OR_RETURN(const PosixFd f, OpenWithSize(path, O_RDONLY, "open"));
    const size_t size = static_cast<size_t>(f.size);
    void* base = nullptr;
    if (size > 0) {
      // Private and writable: the engine may update the mapped arrays in memory (copy-on-write);
      // the checkpoint file itself is immutable.
      base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, f.fd, 0);
      if (base == MAP_FAILED) return PosixError("mmap", path, errno);
    }
    return std::unique_ptr<MappedFile>(std::make_unique<PosixMappedFile>(base, size));
  }
  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }
  Result<uint64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError("list", dir, errno);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(d);
    return names;
  }
  Status CreateDir(const std::string& dir) override {
    // Creates missing parents too (mkdir -p): opening "data/vectors.adb" should just work.
    for (size_t pos = dir.find('/', 1); pos != std::string::npos; pos = dir.find('/', pos + 1)) {
      const std::string parent = dir.substr(0, pos);
      if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
        return PosixError("mkdir", parent, errno);
      }
    }
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return PosixError("mkdir", dir, errno);
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Status::IOError("mkdir " + dir + ": exists and is not a directory");
    }
    return Status::OK();
  }
  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("remove", path, errno);
    return Status::OK();
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return PosixError("rename", from + " to " + to, errno);
    return Status::OK();
  }
  Status TruncateFile(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
      return PosixError("truncate", path, errno);
    }
    return Status::OK();
  }
  Status SyncDir(const std::string& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("open directory", dir, errno);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return PosixError("fsync directory", dir, err);
    return Status::OK();
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path,
                                             const std::string& owner_info) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("open lock file", path, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      char holder[256] = {0};
      const ssize_t n = ::pread(fd, holder, sizeof(holder) - 1, 0);
      ::close(fd);
      if (err == EWOULDBLOCK) {
        std::string who = n > 0 ? std::string(holder, static_cast<size_t>(n)) : "another process";
        while (!who.empty() && (who.back() == '\n' || who.back() == '\0')) who.pop_back();
        return Status::Locked("database " + path.substr(0, path.rfind('/')) +
                              " is open for writing by " + who +
                              "; close it there first, or open it read-only");
      }
      return PosixError("lock", path, err);
    }
    if (::ftruncate(fd, 0) == 0) {
      const std::string info = owner_info + "\n";
      [[maybe_unused]] const ssize_t w = ::pwrite(fd, info.data(), info.size(), 0);
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd));
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv env;  // stateless, so destruction order at exit does not matter
  return &env;
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

}  // namespace augurdb::storage
