#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chokepoint/audit/sink.hpp>

#include "failure_log.hpp"

namespace chokepoint::audit {
namespace {

int open_file(const std::string& path, std::string& error) {
  if (path == "-") return STDOUT_FILENO;
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) error = "cannot open audit log " + path + ": " + std::strerror(errno);
  return fd;
}

constexpr std::size_t kKeptBufferBytes = 64 * 1024;

class FileSink final : public Sink {
 public:
  FileSink(std::string path, int fd, const FileSinkOptions& options)
      : path_(std::move(path)),
        fd_(fd),
        options_(options),
        failures_(path_ == "-" ? "stdout" : path_, *options.log, options.log_interval) {}
  ~FileSink() override {
    if (fd_ > STDERR_FILENO) ::close(fd_);
  }

  void write(std::span<const std::vector<Record>> batches) override {
    // A burst (thousands of tunnels opening at once) grows the buffer; keep
    // only a modest one afterwards, so the burst's memory goes back.
    if (batch_.capacity() > kKeptBufferBytes) {
      std::string().swap(batch_);
    } else {
      batch_.clear();
    }
    // The file ends in a broken line that could not be cut off: this batch
    // starts a new line, so no record is glued to it.
    const std::size_t prefix = broken_tail_ ? 1 : 0;
    if (prefix) batch_ += '\n';
    std::size_t records = 0;
    for (const auto& batch : batches) {
      for (const Record& r : batch)
        append_json_line(batch_, r);
      records += batch.size();
    }
    std::size_t done = 0;
    int error = 0;
    while (done < batch_.size()) {
      const ssize_t n = ::write(fd_, batch_.data() + done, batch_.size() - done);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        error = n < 0 ? errno : ENOSPC;
        break;
      }
    }
    if (done == batch_.size()) {
      broken_tail_ = false;
      written_.fetch_add(records, std::memory_order_relaxed);
      if (failing_.exchange(false, std::memory_order_relaxed)) set_error({});
      failures_.succeeded();
      return;
    }
    // Cut short: the records whose newline went out are written; the one
    // the write stopped in is cut off, so the file ends on a record boundary.
    if (prefix && done > 0) broken_tail_ = false;
    const auto begin = batch_.begin() + static_cast<std::ptrdiff_t>(prefix);
    const auto end = batch_.begin() + static_cast<std::ptrdiff_t>(std::max(done, prefix));
    const auto whole = static_cast<std::uint64_t>(std::count(begin, end, '\n'));
    const std::size_t last_newline = done == 0 ? std::string::npos : batch_.rfind('\n', done - 1);
    const std::size_t partial = last_newline == std::string::npos ? done : done - last_newline - 1;
    if (partial > 0) cut_back(partial);
    written_.fetch_add(whole, std::memory_order_relaxed);
    lost_.fetch_add(records - whole, std::memory_order_relaxed);
    failing_.store(true, std::memory_order_relaxed);
    set_error(std::strerror(error));
    failures_.failed(std::strerror(error), records - whole, FailureLog::Clock::now());
  }

  void retry() override {
    failures_.tick(FailureLog::Clock::now());
    if (!failing_.load(std::memory_order_relaxed)) return;
    // Nothing is written to find out (an empty line would be one no parser
    // reads): room on the file system means the next batch may try. A file
    // system that says nothing (a pipe, stdout) gets its next batch tried
    // too; a disk that still fails (EIO) fails that batch, and says so.
    struct stat st {};
    struct statvfs vfs {};
    if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && ::fstatvfs(fd_, &vfs) == 0) {
      const auto room = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
      if (room < options_.retry_room) return;
    }
    failing_.store(false, std::memory_order_relaxed);
    set_error({});
  }

  void reopen() override {
    if (path_ != "-") {
      std::string error;
      const int fd = open_file(path_, error);
      if (fd < 0) {
        log::Message(log::Level::Error, *options_.log)
            << "audit: " << error << "; still writing to the old file";
        return;
      }
      ::close(fd_);
      fd_ = fd;
      struct stat st {};
      // A new (rotated) file has no broken line to step over.
      if (::fstat(fd_, &st) == 0 && st.st_size == 0) broken_tail_ = false;
    }
    // The operator says writing may work again (space freed, a new file):
    // the next batch tries.
    failing_.store(false, std::memory_order_relaxed);
    set_error({});
  }

  SinkHealth health() const override {
    if (!failing_.load(std::memory_order_relaxed)) return {};
    std::lock_guard lock(error_mutex_);
    return SinkHealth{true, error_};
  }
  SinkStats stats() const override { return {written_, lost_}; }
  std::string name() const override { return path_ == "-" ? "stdout" : "file:" + path_; }

 private:
  // Takes the last `partial` bytes (a record cut short) off the file; where
  // that is not possible, the next write starts on a new line instead.
  void cut_back(std::size_t partial) {
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) &&
        static_cast<std::uint64_t>(st.st_size) >= partial &&
        ::ftruncate(fd_, st.st_size - static_cast<off_t>(partial)) == 0)
      return;
    broken_tail_ = true;
  }
  void set_error(std::string error) {
    std::lock_guard lock(error_mutex_);
    error_ = std::move(error);
  }

  std::string path_;
  int fd_;
  FileSinkOptions options_;
  std::string batch_;
  bool broken_tail_ = false;  // the file ends in a partial line that could not be cut off
  FailureLog failures_;
  std::atomic<std::uint64_t> written_{0};  // the audit thread writes, metrics read
  std::atomic<std::uint64_t> lost_{0};
  std::atomic<bool> failing_{false};
  mutable std::mutex error_mutex_;
  std::string error_;
};

}  // namespace

std::unique_ptr<Sink> make_file_sink(const std::string& path, std::string& error,
                                     const FileSinkOptions& options) {
  const int fd = open_file(path, error);
  if (fd < 0) return nullptr;
  return std::make_unique<FileSink>(path, fd, options);
}

}  // namespace chokepoint::audit
