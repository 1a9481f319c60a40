// Private to the proxy module: the records of one exchange (a CONNECT, a
// SOCKS request, a transparent connection, one forwarded HTTP request), and
// the only code that writes audit records.
//
// The life cycle is in the types. A PendingRecord ends in exactly one of:
//   refuse()  a `deny` or `error` record (which one, and who it puts the end
//             on, the reason's table in audit/record.hpp says), or
//   open()    an `open` record, and the exchange goes on as an OpenRecord,
//             which ends in close() (its `close` record), after at most a
//             `deny` from inside the tunnel (deny_inside(): an SNI naming
//             another host) under the same id.
// Both are move-only and consumed by the call that ends them. One that is
// destroyed without ending (a path nobody meant to take) still writes its
// terminal record, as an internal error: nothing is ever silently lost.
//
// They are handles: the record itself lives in the session (one per
// connection, reused by each exchange), so handing a stage its record
// copies a pointer, not thirty strings.
#pragma once

#include <chrono>
#include <optional>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/asio.hpp>
#include <chokepoint/policy/snapshot.hpp>
#include <chokepoint/proxy/record_queue.hpp>
#include <chokepoint/relay/tunnel.hpp>

namespace chokepoint::proxy {

class OpenRecord;

class PendingRecord {
 public:
  // The exchange that began at `started`, whose facts are in `record` (kept
  // by the caller for as long as the handles live); it gets a fresh id from
  // `queue`, where its records go.
  PendingRecord(RecordQueue& queue, audit::Record& record,
                std::chrono::steady_clock::time_point started);
  PendingRecord(PendingRecord&& other) noexcept;
  PendingRecord& operator=(PendingRecord&&) = delete;
  ~PendingRecord();

  audit::Record* operator->() { return record_; }
  const audit::Record& fields() const { return *record_; }

  // The exchange was refused or failed: its one terminal record.
  void refuse(audit::Reason reason, std::string detail = {}) &&;
  // The destination is connected and the client answered: the `open`
  // record. Status and detail belong to the open record only.
  OpenRecord open() &&;

 private:
  friend class OpenRecord;
  friend asio::awaitable<std::optional<OpenRecord>> open_recorded(PendingRecord record);
  RecordQueue* queue_;  // null once ended or moved from
  audit::Record* record_;
  std::chrono::steady_clock::time_point started_;
};

class OpenRecord {
 public:
  OpenRecord(OpenRecord&& other) noexcept;
  OpenRecord& operator=(OpenRecord&&) = delete;
  ~OpenRecord();

  audit::Record* operator->() { return record_; }
  const audit::Record& fields() const { return *record_; }
  std::chrono::steady_clock::time_point started() const { return started_; }

  // A refusal after the open, under the same id; the exchange still ends
  // with close() (end: denied).
  void deny_inside(audit::Reason reason, std::string detail);
  // The exchange is over: its terminal `close` record.
  void close(audit::End end, audit::Source source) &&;
  // A relayed tunnel is over: its bytes, its path, and who ended it how.
  void close(const relay::TunnelResult& result) &&;

 private:
  friend class PendingRecord;
  OpenRecord(RecordQueue& queue, audit::Record& record,
             std::chrono::steady_clock::time_point started);
  RecordQueue* queue_;  // null once closed or moved from
  audit::Record* record_;
  std::chrono::steady_clock::time_point started_;
};

// The decision's facts in the exchange's record; a deny (or an unenforced
// one) also gets the sentence that says why.
void note_decision(audit::Record& record, const policy::Decision& decision,
                   const policy::Snapshot& snapshot, const Host& host, std::uint16_t port,
                   const policy::ClientIdentity& identity);

// The `open` record, and, failing closed (--audit-on-failure refuse), the
// wait until it is written: nothing goes through before. When it was lost,
// the exchange ends here (a `deny` audit_unavailable inside it, then its
// `close`) and nothing is returned.
asio::awaitable<std::optional<OpenRecord>> open_recorded(PendingRecord record);

}  // namespace chokepoint::proxy
