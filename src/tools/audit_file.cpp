#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <zlib.h>

#include <chokepoint/tools/audit_reader.hpp>

namespace chokepoint::tools {
namespace {

constexpr std::size_t kCompressedChunk = 256 << 10;
constexpr unsigned char kGzipMagic[2] = {0x1f, 0x8b};
constexpr int kBlocks = 3;  // one being parsed, one ready, one being filled

}  // namespace

// The reading thread. Each block is laid out as
//   [ headroom: max_line_bytes ][ data: up to buffer_bytes ][ padding ]
// so that the consumer can move the unfinished last line of one block in
// front of the next block's data, and a line is never copied more than once.
struct AuditFile::Reader {
  struct Block {
    std::vector<char> bytes;
    std::size_t size = 0;  // data bytes, from `headroom` on
  };

  int fd;
  AuditFile::Limits limits;
  std::size_t headroom;
  Block blocks[kBlocks];

  std::mutex mutex;
  std::condition_variable changed;
  std::deque<int> free_blocks;
  std::deque<int> full_blocks;
  bool done = false;  // no block will follow the full ones
  bool stop = false;  // the consumer is gone
  // Written by the thread before `done`; read by the consumer after it.
  std::string error;
  bool gzip = false;
  std::uint64_t bytes = 0;

  // zlib's inflate over our own input buffer, so the bytes read to recognise
  // the format are not lost (standard input cannot seek back).
  z_stream zstream{};
  bool zstream_ready = false;
  std::vector<unsigned char> input;
  bool input_eof = false;
  bool member_done = false;  // a gzip member ended; another may follow

  std::thread thread;

  Reader(int fd_in, AuditFile::Limits l) : fd(fd_in), limits(l), headroom(l.max_line_bytes) {
    for (int i = 0; i < kBlocks; ++i) {
      blocks[i].bytes.resize(headroom + limits.buffer_bytes + kLinePadding);
      free_blocks.push_back(i);
    }
    thread = std::thread([this] { run(); });
  }

  ~Reader() {
    {
      std::lock_guard lock(mutex);
      stop = true;
    }
    changed.notify_all();
    thread.join();
    if (zstream_ready) inflateEnd(&zstream);
    ::close(fd);
  }

  bool read_raw(char* into, std::size_t capacity, std::size_t& got) {
    got = 0;
    while (true) {
      const ssize_t n = ::read(fd, into, capacity);
      if (n >= 0) {
        got = static_cast<std::size_t>(n);
        return true;
      }
      if (errno == EINTR) continue;
      error = std::string("read failed: ") + std::strerror(errno);
      return false;
    }
  }

  // Up to `room` more bytes of the (inflated) stream into `out`; false at
  // the end of it or on an error.
  bool produce(char* out, std::size_t room, std::size_t& got) {
    got = 0;
    if (!gzip) return read_raw(out, room, got) && got > 0;
    zstream.next_out = reinterpret_cast<Bytef*>(out);
    zstream.avail_out = static_cast<uInt>(room);
    while (zstream.avail_out == room) {
      if (zstream.avail_in == 0 && !input_eof) {
        std::size_t n = 0;
        if (!read_raw(reinterpret_cast<char*>(input.data()), input.size(), n)) return false;
        zstream.next_in = input.data();
        zstream.avail_in = static_cast<uInt>(n);
        if (n == 0) input_eof = true;
        continue;
      }
      if (member_done) {
        if (zstream.avail_in == 0) return false;  // the input ends with a whole member
        // Rotation tools concatenate members; anything else after one is not ours.
        if (zstream.next_in[0] != kGzipMagic[0]) {
          error = "data after the end of the gzip stream";
          return false;
        }
        inflateReset(&zstream);
        member_done = false;
      }
      // Also once all the input is in: zlib may still hold output (the rest of
      // a match longer than the room left), and the stream is cut short only
      // when it makes no more.
      const int status = inflate(&zstream, Z_NO_FLUSH);
      if (status == Z_STREAM_END) {
        member_done = true;
      } else if (status == Z_BUF_ERROR && input_eof) {
        error = "truncated gzip stream";
        return false;
      } else if (status != Z_OK && status != Z_BUF_ERROR) {
        // What inflate wrote before it stopped is kept: the same lines come
        // out of a corrupt stream whatever the block size.
        error = std::string("corrupt gzip data: ") + (zstream.msg ? zstream.msg : "inflate failed");
        got = room - zstream.avail_out;
        return false;
      }
    }
    got = room - zstream.avail_out;
    return true;
  }

  // The first bytes decide the format: gzip's magic, or lines as they are.
  bool start(Block& first, bool& more) {
    char* data = first.bytes.data() + headroom;
    std::size_t have = 0;
    more = true;
    while (have < 2) {
      std::size_t n = 0;
      if (!read_raw(data + have, limits.buffer_bytes - have, n)) return false;
      if (n == 0) {
        more = false;
        break;
      }
      have += n;
    }
    if (have >= 2 && static_cast<unsigned char>(data[0]) == kGzipMagic[0] &&
        static_cast<unsigned char>(data[1]) == kGzipMagic[1]) {
      gzip = true;
      // 15 + 32: the largest window, and a gzip or zlib header recognised.
      if (inflateInit2(&zstream, 15 + 32) != Z_OK) {
        error = "cannot start zlib";
        return false;
      }
      zstream_ready = true;
      input.resize(std::max(kCompressedChunk, have));
      std::memcpy(input.data(), data, have);
      zstream.next_in = input.data();
      zstream.avail_in = static_cast<uInt>(have);
      first.size = 0;
      return true;
    }
    first.size = have;
    return true;
  }

  void run() {
    bool first = true;
    bool more = true;
    while (more) {
      int index;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return stop || !free_blocks.empty(); });
        if (stop) return;
        index = free_blocks.front();
        free_blocks.pop_front();
      }
      Block& block = blocks[index];
      block.size = 0;
      if (first) {
        first = false;
        if (!start(block, more)) more = false;
      }
      // Fill the block: fewer, larger handovers.
      while (more && block.size < limits.buffer_bytes) {
        std::size_t got = 0;
        more = produce(block.bytes.data() + headroom + block.size, limits.buffer_bytes - block.size,
                       got);
        block.size += got;
      }
      bytes += block.size;
      {
        std::lock_guard lock(mutex);
        full_blocks.push_back(index);
        if (!more) done = true;
      }
      changed.notify_all();
    }
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
  // Read once, front to back: let the kernel read ahead.
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::make_unique<AuditFile>(fd, path == "-" ? "(stdin)" : path, limits);
}

AuditFile::AuditFile(int fd, std::string name, Limits limits) : name_(std::move(name)) {
  if (limits.max_line_bytes == 0) limits.max_line_bytes = 1;
  // Room for the two bytes that tell gzip from text.
  if (limits.buffer_bytes < 16) limits.buffer_bytes = 16;
  reader_ = std::make_unique<Reader>(fd, limits);
}

AuditFile::~AuditFile() = default;

bool AuditFile::next_block() {
  Reader& r = *reader_;
  const std::size_t carried = end_ - begin_;  // the unfinished last line, if any
  int index;
  {
    std::unique_lock lock(r.mutex);
    r.changed.wait(lock, [&] { return !r.full_blocks.empty() || r.done; });
    if (r.full_blocks.empty()) return false;
    index = r.full_blocks.front();
    r.full_blocks.pop_front();
  }
  char* data = r.blocks[index].bytes.data() + r.headroom;
  if (carried > 0) std::memcpy(data - carried, block_ + begin_, carried);
  if (block_index_ >= 0) {
    {
      std::lock_guard lock(r.mutex);
      r.free_blocks.push_back(block_index_);
    }
    r.changed.notify_all();
  }
  block_ = r.blocks[index].bytes.data();
  block_index_ = index;
  begin_ = r.headroom - carried;
  scanned_ = r.headroom;
  end_ = r.headroom + r.blocks[index].size;
  return true;
}

bool AuditFile::next(std::string_view& line) {
  if (finished_) return false;
  const std::size_t max_line = reader_->limits.max_line_bytes;
  while (true) {
    if (block_ != nullptr) {
      const void* newline = std::memchr(block_ + scanned_, '\n', end_ - scanned_);
      if (newline != nullptr) {
        const std::size_t start = begin_;
        std::size_t length =
            static_cast<std::size_t>(static_cast<const char*>(newline) - block_) - start;
        begin_ = start + length + 1;
        scanned_ = begin_;
        if (skipping_) {
          skipping_ = false;  // that was the tail of an oversized line
          continue;
        }
        if (length >= max_line) {
          ++oversized_;
          continue;
        }
        if (length > 0 && block_[start + length - 1] == '\r') --length;
        line = std::string_view(block_ + start, length);
        return true;
      }
      scanned_ = end_;
      if (end_ - begin_ >= max_line) {
        // Keep nothing of a line this long; skip to its end.
        if (!skipping_) ++oversized_;
        skipping_ = true;
        begin_ = end_;
      }
    }
    if (!next_block()) break;
  }
  // The end. The last line may have no newline (the writer stopped
  // mid-line): hand it over anyway; a parser will say whether it is a record.
  finished_ = true;
  {
    std::lock_guard lock(reader_->mutex);
    error_ = reader_->error;
    gzip_ = reader_->gzip;
    bytes_ = reader_->bytes;
  }
  if (block_ != nullptr && end_ > begin_ && !skipping_) {
    std::size_t length = end_ - begin_;
    if (block_[begin_ + length - 1] == '\r') --length;
    line = std::string_view(block_ + begin_, length);
    begin_ = end_;
    return true;
  }
  return false;
}

}  // namespace chokepoint::tools
