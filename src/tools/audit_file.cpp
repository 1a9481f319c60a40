#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <chokepoint/tools/audit_reader.hpp>

namespace chokepoint::tools {
namespace {

constexpr std::size_t kCompressedChunk = 256 << 10;
constexpr unsigned char kGzipMagic[2] = {0x1f, 0x8b};

}  // namespace

// zlib's inflate over our own input buffer, so the bytes read to recognise
// the format are not lost (standard input cannot seek back).
struct AuditFile::Inflater {
  z_stream stream{};
  std::vector<unsigned char> input = std::vector<unsigned char>(kCompressedChunk);
  bool input_eof = false;
  bool member_done = false;  // a gzip member ended; another may follow
  bool ok = false;

  Inflater() {
    // 15 + 32: the largest window, and a gzip or zlib header recognised.
    ok = inflateInit2(&stream, 15 + 32) == Z_OK;
  }
  ~Inflater() {
    if (ok) inflateEnd(&stream);
  }
};

std::unique_ptr<AuditFile> AuditFile::open(const std::string& path, std::string& error) {
  return open(path, error, Limits{});
}

std::unique_ptr<AuditFile> AuditFile::open(const std::string& path, std::string& error,
                                           Limits limits) {
  const int fd = path == "-" ? ::dup(STDIN_FILENO) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = std::strerror(errno);
    return nullptr;
  }
  // Read once, front to back: let the kernel read ahead and drop what we passed.
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::make_unique<AuditFile>(fd, path == "-" ? "(stdin)" : path, limits);
}

AuditFile::AuditFile(int fd, std::string name, Limits limits)
    : fd_(fd), name_(std::move(name)), limits_(limits) {
  // A kept line and its newline fit in the buffer together.
  if (limits_.max_line_bytes == 0) limits_.max_line_bytes = 1;
  if (limits_.buffer_bytes <= limits_.max_line_bytes)
    limits_.buffer_bytes = limits_.max_line_bytes + 1;
  buffer_.resize(limits_.buffer_bytes + kLinePadding);
}

AuditFile::~AuditFile() {
  if (fd_ >= 0) ::close(fd_);
}

bool AuditFile::read_raw(char* into, std::size_t capacity, std::size_t& got) {
  got = 0;
  while (true) {
    const ssize_t n = ::read(fd_, into, capacity);
    if (n >= 0) {
      got = static_cast<std::size_t>(n);
      return true;
    }
    if (errno == EINTR) continue;
    error_ = std::string("read failed: ") + std::strerror(errno);
    return false;
  }
}

bool AuditFile::fill() {
  if (eof_ || !error_.empty()) return false;
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  char* out = buffer_.data() + end_;
  const std::size_t room = limits_.buffer_bytes - end_;

  if (!started_) {
    // Recognise gzip by its first two bytes, reading until there are two.
    started_ = true;
    std::size_t have = 0;
    while (have < 2) {
      std::size_t got = 0;
      if (!read_raw(out + have, room - have, got)) return false;
      if (got == 0) break;
      have += got;
    }
    if (have >= 2 && static_cast<unsigned char>(out[0]) == kGzipMagic[0] &&
        static_cast<unsigned char>(out[1]) == kGzipMagic[1]) {
      gzip_ = true;
      inflater_ = std::make_unique<Inflater>();
      if (!inflater_->ok) {
        error_ = "cannot start zlib";
        return false;
      }
      if (have > inflater_->input.size()) inflater_->input.resize(have);
      std::memcpy(inflater_->input.data(), out, have);
      inflater_->stream.next_in = inflater_->input.data();
      inflater_->stream.avail_in = static_cast<uInt>(have);
    } else {
      end_ += have;
      bytes_ += have;
      if (have == 0) eof_ = true;
      return have > 0;
    }
  }

  if (!gzip_) {
    std::size_t got = 0;
    if (!read_raw(out, room, got)) return false;
    if (got == 0) {
      eof_ = true;
      return false;
    }
    end_ += got;
    bytes_ += got;
    return true;
  }

  Inflater& z = *inflater_;
  z.stream.next_out = reinterpret_cast<Bytef*>(out);
  z.stream.avail_out = static_cast<uInt>(room);
  while (z.stream.avail_out == room) {
    if (z.stream.avail_in == 0) {
      if (z.input_eof) {
        if (!z.member_done) error_ = "truncated gzip stream";
        eof_ = true;
        return false;
      }
      std::size_t got = 0;
      if (!read_raw(reinterpret_cast<char*>(z.input.data()), z.input.size(), got)) return false;
      z.stream.next_in = z.input.data();
      z.stream.avail_in = static_cast<uInt>(got);
      if (got == 0) z.input_eof = true;
      continue;
    }
    if (z.member_done) {
      // Rotation tools concatenate members; anything else after one is not ours.
      if (z.stream.next_in[0] != kGzipMagic[0]) {
        error_ = "data after the end of the gzip stream";
        eof_ = true;
        return false;
      }
      inflateReset(&z.stream);
      z.member_done = false;
    }
    const int status = inflate(&z.stream, Z_NO_FLUSH);
    if (status == Z_STREAM_END) {
      z.member_done = true;
    } else if (status != Z_OK && status != Z_BUF_ERROR) {
      error_ =
          std::string("corrupt gzip data: ") + (z.stream.msg ? z.stream.msg : "inflate failed");
      eof_ = true;
      return false;
    }
  }
  const std::size_t got = room - z.stream.avail_out;
  end_ += got;
  bytes_ += got;
  return true;
}

bool AuditFile::next(std::string_view& line) {
  std::size_t scanned = begin_;  // no newline in [begin_, scanned)
  while (true) {
    const char* base = buffer_.data();
    const void* newline = std::memchr(base + scanned, '\n', end_ - scanned);
    if (newline != nullptr) {
      const std::size_t start = begin_;
      std::size_t length =
          static_cast<std::size_t>(static_cast<const char*>(newline) - base) - start;
      begin_ = start + length + 1;
      scanned = begin_;
      if (skipping_) {
        skipping_ = false;  // that was the tail of an oversized line
        continue;
      }
      if (length >= limits_.max_line_bytes) {
        ++oversized_;
        continue;
      }
      if (length > 0 && base[start + length - 1] == '\r') --length;
      line = std::string_view(base + start, length);
      return true;
    }
    if (end_ - begin_ >= limits_.max_line_bytes) {
      // Keep nothing of a line this long; skip to its end.
      if (!skipping_) ++oversized_;
      skipping_ = true;
      begin_ = end_;
    }
    const std::size_t kept = end_ - begin_;
    if (!fill()) {
      if (end_ > begin_ && !skipping_ && end_ - begin_ < limits_.max_line_bytes) {
        // The last line has no newline (the writer stopped mid-line): hand it
        // over anyway; a parser will say whether it is a record.
        std::size_t length = end_ - begin_;
        if (buffer_[begin_ + length - 1] == '\r') --length;
        line = std::string_view(buffer_.data() + begin_, length);
        begin_ = end_;
        return true;
      }
      return false;
    }
    scanned = begin_ + kept;  // fill() moved the kept bytes to the front
  }
}

}  // namespace chokepoint::tools
