// Where audit records go: a file (or stdout) as JSON lines, or a SIEM over
// syslog. The audit thread hands each sink the records in order; a sink that
// talks to the network keeps its own bounded queue and thread, so a SIEM
// that is slow or down never holds up the file, let alone a relay. Every
// record a sink could not deliver is counted.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/audit/siem_format.hpp>
#include <chokepoint/core/syslog_target.hpp>
#include <chokepoint/log/log.hpp>

namespace chokepoint::audit {

struct SinkStats {
  std::uint64_t written = 0;
  std::uint64_t lost = 0;
};

// Whether a sink can write now. `failing` from the first record it could
// not deliver until it delivers again (or finds room again: retry());
// `error` says why ("No space left on device"), empty when not failing.
struct SinkHealth {
  bool failing = false;
  std::string error;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // On the audit thread, records in order: the batches as the I/O threads
  // handed them over (not merged into one: moving a record costs about as
  // much as writing it). Must not wait on the network.
  virtual void write(std::span<const std::vector<Record>> batches) = 0;
  void write(const std::vector<Record>& records) { write(std::span(&records, 1)); }
  virtual void reopen() {}
  // On the audit thread, about every kRetryInterval while health() says
  // failing and no record came: look whether writing could work again
  // (room on the disk) without writing anything a reader would see.
  virtual void retry() {}
  // Safe from any thread.
  virtual SinkHealth health() const { return {}; }
  // Delivers what it can (within a bound of time), then stops its threads.
  virtual void stop() {}
  virtual SinkStats stats() const = 0;
  virtual std::string name() const = 0;  // for metrics labels and messages
};

// JSON lines appended to `path`, or written to stdout for "-". Start-up
// only: returns nullptr and sets `error` when the file cannot be opened.
//
// A write cut short (a full disk, an I/O error) never leaves a broken line
// in front of the next record: the file is truncated back to the end of the
// last whole record, and where it cannot be truncated (a pipe, an
// append-only file) the next write starts with a newline, so the broken
// line stands alone. Every record not written whole is counted as lost,
// exactly; the failure is logged once when it starts, then at most once per
// log_interval with a count, and once when writing works again.
struct FileSinkOptions {
  chokepoint::log::Output* log = &chokepoint::log::standard_error();  // where failures are said
  std::chrono::milliseconds log_interval{10'000};  // a summary line at most this often
  std::uint64_t retry_room = 64 * 1024;            // free bytes that make a failing file retry
};
std::unique_ptr<Sink> make_file_sink(const std::string& path, std::string& error,
                                     const FileSinkOptions& options = {});

struct SyslogOptions {
  std::size_t max_queued = 100'000;  // messages waiting for the SIEM; beyond: counted as lost
  std::string hostname;              // RFC 5424 HOSTNAME; empty: this machine's
};

std::unique_ptr<Sink> make_syslog_sink(const SyslogTarget& target, const SyslogOptions& options);

}  // namespace chokepoint::audit
