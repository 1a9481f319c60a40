// Reading audit logs back (DESIGN.md, "Audit record"): JSON lines from a
// file, stdin, or a gzip-compressed rotation, one record at a time, in
// bounded memory, at the speed of the disk.
//
// Two parts, so each can be tested and fuzzed on its own:
//   - AuditFile splits a byte stream into lines. It holds three blocks
//     (5 MiB each by default) whatever the file's size, filled by a thread
//     of its own so that reading and inflating overlap with parsing; a line
//     of 1 MiB or more is skipped and counted, a last line without a newline (a
//     crash, a full disk) is still returned, CRLF is accepted. gzip input is
//     recognised by its magic bytes, whatever the name, members concatenated
//     by rotation included.
//   - AuditLineParser reads one line as a record with simdjson's On-Demand
//     parser (Debian's libsimdjson-dev), chosen by bench/bench_audit_json.cpp:
//     on these records it reads 0.95 to 1.05 GB per CPU-second, nlohmann::json
//     0.11 to 0.16 (DOM and SAX); a reader written for this flat schema was
//     15 to 30% faster, not enough to own a parser of untrusted bytes for.
//     (Its first stage runs the library's best kernel for the CPU, found at
//     run time.) A line that is not a record (truncated, another program's,
//     invalid UTF-8) is an error value, never an exception.
// Neither throws (beyond std::bad_alloc at construction).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <chokepoint/audit/record.hpp>

namespace chokepoint::tools {

// Bytes after a line that the parser may read (simdjson's SIMDJSON_PADDING).
inline constexpr std::size_t kLinePadding = 64;

class AuditFile {
 public:
  struct Limits {
    std::size_t buffer_bytes = 4 << 20;    // one read (or inflate) block
    std::size_t max_line_bytes = 1 << 20;  // a line this long or longer is skipped
  };

  // `path` "-" reads standard input. On failure returns nullptr and sets `error`.
  static std::unique_ptr<AuditFile> open(const std::string& path, std::string& error);
  static std::unique_ptr<AuditFile> open(const std::string& path, std::string& error,
                                         Limits limits);
  // Takes ownership of `fd` (closed by the destructor); `name` is for messages.
  // A thread of its own reads (and inflates) the next blocks while the caller
  // parses this one: three blocks of max_line_bytes + buffer_bytes at most.
  AuditFile(int fd, std::string name, Limits limits);
  ~AuditFile();
  AuditFile(const AuditFile&) = delete;
  AuditFile& operator=(const AuditFile&) = delete;

  // The next line without its line ending; kLinePadding readable bytes
  // follow it. Valid until the next call. False at the end of the input or
  // after a read or decompression error (then error() says which).
  bool next(std::string_view& line);

  const std::string& name() const { return name_; }
  // These four are final once next() has returned false.
  const std::string& error() const { return error_; }
  bool compressed() const { return gzip_; }
  std::uint64_t bytes() const { return bytes_; }  // uncompressed bytes read
  std::uint64_t oversized_lines() const { return oversized_; }

 private:
  struct Reader;  // the reading thread and its blocks
  bool next_block();

  std::string name_;
  std::unique_ptr<Reader> reader_;
  char* block_ = nullptr;  // the block being split into lines
  int block_index_ = -1;
  std::size_t begin_ = 0;    // the next line starts here
  std::size_t end_ = 0;      // end of the data in block_
  std::size_t scanned_ = 0;  // no newline in [begin_, scanned_)
  bool skipping_ = false;    // inside an oversized line, until its newline
  bool finished_ = false;
  std::string error_;
  bool gzip_ = false;
  std::uint64_t bytes_ = 0;
  std::uint64_t oversized_ = 0;
};

// One record's fields. Views into the line or the parser; valid until the
// parser's next parse. Absent and null strings are empty; absent numbers 0.
struct AuditRecord {
  std::string_view ts;                // as written: 2026-11-25T21:04:12.103377Z
  std::int64_t ts_micros = 0;         // the same, since the epoch
  std::optional<audit::Event> event;  // none: an event this reader does not know
  std::string_view id, client, user, role, version, mode, host, sni, decision, rule, service,
      reason, detail, path, end;
  // The manager's name and ID for the client's computer, when the proxy's
  // inventory knew it, and how the role was found (user, inventory, cidr, default).
  std::string_view computer, identity;
  std::uint64_t computer_id = 0;
  std::uint16_t port = 0;
  bool enforced = true;
  std::uint64_t bytes_up = 0, bytes_down = 0;
  std::int64_t duration_ms = 0;
  // A summary record stands for this many further refusals of its kind
  // from its client (written once instead of one by one).
  std::uint64_t suppressed = 0;
};

enum class LineError : std::uint8_t {
  None,
  NotJson,     // not a JSON object (truncated, garbage, invalid UTF-8)
  NotARecord,  // JSON, but without a valid `ts` and `event`
};

class AuditLineParser {
 public:
  AuditLineParser();
  ~AuditLineParser();
  AuditLineParser(const AuditLineParser&) = delete;
  AuditLineParser& operator=(const AuditLineParser&) = delete;

  // `capacity`: readable bytes from `data` on, at least size + kLinePadding.
  LineError parse(const char* data, std::size_t size, std::size_t capacity, AuditRecord& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;  // keeps simdjson.h (1.2 MB) out of every includer
};

// "2026-11-25T21:04:12.103377Z" (any fraction, or none; Z or +hh:mm) as
// microseconds since the epoch; false when it is not such a timestamp.
bool parse_timestamp(std::string_view text, std::int64_t& micros);

// A record's `client` without its port: "10.0.8.23:51514" -> "10.0.8.23",
// "[2001:db8::1]:443" -> "2001:db8::1"; anything else as it is.
std::string_view client_address(std::string_view client);

}  // namespace chokepoint::tools
