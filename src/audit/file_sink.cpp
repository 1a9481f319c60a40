#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <unistd.h>

#include <chokepoint/audit/sink.hpp>

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
  FileSink(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~FileSink() override {
    if (fd_ > STDERR_FILENO) ::close(fd_);
  }

  void write(const std::vector<Record>& records) override {
    // A burst (thousands of tunnels opening at once) grows the buffer; keep
    // only a modest one afterwards, so the burst's memory goes back.
    if (batch_.capacity() > kKeptBufferBytes) {
      std::string().swap(batch_);
    } else {
      batch_.clear();
    }
    for (const Record& r : records)
      append_json_line(batch_, r);
    const char* data = batch_.data();
    std::size_t left = batch_.size();
    while (left > 0) {
      const ssize_t n = ::write(fd_, data, left);
      if (n > 0) {
        data += n;
        left -= static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        // The file refuses (disk full, closed pipe): what is left is lost, and said so.
        std::uint64_t unwritten = 0;
        for (const char* p = data; p < batch_.data() + batch_.size(); ++p)
          unwritten += *p == '\n';
        lost_ += unwritten;
        written_ += records.size() - unwritten;
        std::cerr << "chokepoint: audit: writing " << path_ << " failed: " << std::strerror(errno)
                  << '\n';
        return;
      }
    }
    written_ += records.size();
  }

  void reopen() override {
    if (path_ == "-") return;
    std::string error;
    const int fd = open_file(path_, error);
    if (fd < 0) {
      std::cerr << "chokepoint: audit: " << error << "; still writing to the old file\n";
      return;
    }
    ::close(fd_);
    fd_ = fd;
  }

  SinkStats stats() const override { return {written_, lost_}; }
  std::string name() const override { return path_ == "-" ? "stdout" : "file:" + path_; }

 private:
  std::string path_;
  int fd_;
  std::string batch_;
  std::atomic<std::uint64_t> written_{0};  // the audit thread writes, metrics read
  std::atomic<std::uint64_t> lost_{0};
};

}  // namespace

std::unique_ptr<Sink> make_file_sink(const std::string& path, std::string& error) {
  const int fd = open_file(path, error);
  if (fd < 0) return nullptr;
  return std::make_unique<FileSink>(path, fd);
}

}  // namespace chokepoint::audit
