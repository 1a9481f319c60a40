#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

#include <chokepoint/log/log.hpp>

namespace chokepoint::log {
namespace {

class StandardError final : public Output {
 public:
  StandardError() : journal_(is_journal_stream(STDERR_FILENO)) {}

  void write(Level level, std::string_view message) override {
    const std::string text = frame(level, message, journal_);
    std::string_view rest = text;
    while (!rest.empty()) {
      const ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // nowhere left to say it
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }

 private:
  const bool journal_;
};

}  // namespace

bool is_journal_stream(int fd) {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long device = 0;
  unsigned long long inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  struct stat st {};
  return ::fstat(fd, &st) == 0 && st.st_dev == device && st.st_ino == inode;
}

Output& standard_error() {
  static StandardError output;
  return output;
}

void Recorded::write(Level level, std::string_view message) {
  text_ += frame(level, message, false);
}

std::string frame(Level level, std::string_view message, bool journal) {
  constexpr std::string_view kName = "chokepoint: ";
  std::string out;
  out.reserve(message.size() + kName.size() + 8);
  std::size_t at = 0;
  while (true) {
    const std::size_t end = message.find('\n', at);
    if (journal) {
      out += '<';
      out += static_cast<char>('0' + static_cast<int>(level));
      out += '>';
    }
    if (at == 0) out += kName;
    out += message.substr(at, end == std::string_view::npos ? end : end - at);
    out += '\n';
    if (end == std::string_view::npos || end + 1 == message.size()) return out;
    at = end + 1;
  }
}

}  // namespace chokepoint::log
