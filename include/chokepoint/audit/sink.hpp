// Where audit records go: a file (or stdout) as JSON lines, or a SIEM over
// syslog. The audit thread hands each sink the records in order; a sink that
// talks to the network keeps its own bounded queue and thread, so a SIEM
// that is slow or down never holds up the file, let alone a relay. Every
// record a sink could not deliver is counted.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/audit/siem_format.hpp>
#include <chokepoint/core/syslog_target.hpp>

namespace chokepoint::audit {

struct SinkStats {
  std::uint64_t written = 0;
  std::uint64_t lost = 0;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // On the audit thread, records in order. Must not wait on the network.
  virtual void write(const std::vector<Record>& records) = 0;
  virtual void reopen() {}
  // Delivers what it can (within a bound of time), then stops its threads.
  virtual void stop() {}
  virtual SinkStats stats() const = 0;
  virtual std::string name() const = 0;  // for metrics labels and messages
};

// JSON lines appended to `path`, or written to stdout for "-". Start-up
// only: returns nullptr and sets `error` when the file cannot be opened.
std::unique_ptr<Sink> make_file_sink(const std::string& path, std::string& error);

struct SyslogOptions {
  std::size_t max_queued = 100'000;  // messages waiting for the SIEM; beyond: counted as lost
  std::string hostname;              // RFC 5424 HOSTNAME; empty: this machine's
};

std::unique_ptr<Sink> make_syslog_sink(const SyslogTarget& target, const SyslogOptions& options);

}  // namespace chokepoint::audit
