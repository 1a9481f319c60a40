#include "exchange_record.hpp"

#include <chokepoint/audit/policy_terms.hpp>

namespace chokepoint::proxy {
namespace {

using Clock = std::chrono::steady_clock;

audit::End end_of(relay::EndReason end) {
  switch (end) {
    case relay::EndReason::Eof:
      return audit::End::Eof;
    case relay::EndReason::Reset:
      return audit::End::Reset;
    case relay::EndReason::IdleTimeout:
      return audit::End::IdleTimeout;
    case relay::EndReason::HalfCloseTimeout:
      return audit::End::HalfCloseTimeout;
    case relay::EndReason::Shutdown:
      return audit::End::Shutdown;
  }
  return audit::End::Reset;
}

// Who ended a relayed tunnel: the side that closed or failed first, the
// idle limit, or the proxy stopping.
audit::Source source_of(const relay::TunnelResult& r) {
  if (r.end == relay::EndReason::IdleTimeout || r.end == relay::EndReason::HalfCloseTimeout)
    return audit::Source::Limit;
  switch (r.ended_by) {
    case relay::EndedBy::Client:
      return audit::Source::Client;
    case relay::EndedBy::Upstream:
      return audit::Source::Upstream;
    case relay::EndedBy::Proxy:
      return audit::Source::Internal;
  }
  return audit::Source::Internal;
}

void stamp(audit::Record& record, audit::Event event, Clock::time_point started) {
  record.event = event;
  record.ts = std::chrono::system_clock::now();
  record.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
}

}  // namespace

PendingRecord::PendingRecord(RecordQueue& queue, audit::Record& record, Clock::time_point started)
    : queue_(&queue), record_(&record), started_(started) {
  record.id = queue.next_id();
}

PendingRecord::PendingRecord(PendingRecord&& other) noexcept
    : queue_(std::exchange(other.queue_, nullptr)),
      record_(other.record_),
      started_(other.started_) {}

PendingRecord::~PendingRecord() {
  if (queue_) std::move(*this).refuse(audit::Reason::InternalError, "ended without a record");
}

void PendingRecord::refuse(audit::Reason reason, std::string detail) && {
  RecordQueue* queue = std::exchange(queue_, nullptr);
  audit::Record& record = *record_;
  record.reason = reason;
  record.source = audit::source_of(reason);
  const audit::Event event = audit::event_of(reason);
  if (event == audit::Event::Deny) record.decision = audit::Decision::Deny;
  if (!detail.empty()) record.detail = std::move(detail);
  stamp(record, event, started_);
  queue->write(std::move(record));
}

OpenRecord PendingRecord::open() && {
  RecordQueue* queue = std::exchange(queue_, nullptr);
  audit::Record& record = *record_;
  stamp(record, audit::Event::Open, started_);
  queue->write(record);
  record.status = 0;
  record.detail.clear();
  return OpenRecord(*queue, record, started_);
}

OpenRecord::OpenRecord(RecordQueue& queue, audit::Record& record, Clock::time_point started)
    : queue_(&queue), record_(&record), started_(started) {}

OpenRecord::OpenRecord(OpenRecord&& other) noexcept
    : queue_(std::exchange(other.queue_, nullptr)),
      record_(other.record_),
      started_(other.started_) {}

OpenRecord::~OpenRecord() {
  if (!queue_) return;
  record_->detail = "ended without a record";
  std::move(*this).close(audit::End::Reset, audit::Source::Internal);
}

void OpenRecord::deny_inside(audit::Reason reason, std::string detail) {
  audit::Record& record = *record_;
  record.decision = audit::Decision::Deny;
  record.reason = reason;
  record.source = audit::source_of(reason);
  record.detail = std::move(detail);
  stamp(record, audit::Event::Deny, started_);
  queue_->write(record);
  record.source = audit::Source::None;
}

void OpenRecord::close(audit::End end, audit::Source source) && {
  RecordQueue* queue = std::exchange(queue_, nullptr);
  audit::Record& record = *record_;
  record.end = end;
  record.source = source;
  stamp(record, audit::Event::Close, started_);
  queue->write(std::move(record));
}

void OpenRecord::close(const relay::TunnelResult& result) && {
  audit::Record& record = *record_;
  record.bytes_up = result.bytes_up;
  record.bytes_down += result.bytes_down;  // after what the destination said before the relay
  record.relay =
      result.path == relay::PathUsed::Copy ? audit::RelayPath::Copy : audit::RelayPath::Splice;
  if (result.error) record.detail = result.error.message();
  std::move(*this).close(end_of(result.end), source_of(result));
}

void note_decision(audit::Record& record, const policy::Decision& decision,
                   const policy::Snapshot& snapshot, const Host& host, std::uint16_t port,
                   const policy::ClientIdentity& identity) {
  record.decision = audit::decision_of(decision.action);
  record.rule = std::string(decision.rule_id());
  if (decision.match.rule) record.service = decision.match.rule->service;
  record.reason = audit::reason_of(decision.reason);
  record.enforced = decision.enforced;
  if (!decision.let_out() || !decision.enforced)
    record.detail = snapshot.describe(decision, host, port, identity);
}

asio::awaitable<std::optional<OpenRecord>> open_recorded(PendingRecord record) {
  RecordQueue& queue = *record.queue_;
  OpenRecord open = std::move(record).open();
  if (!queue.fail_closed()) co_return std::move(open);
  const bool written = co_await queue.written();
  if (written) co_return std::move(open);
  open.deny_inside(audit::Reason::AuditUnavailable,
                   "the audit log could not write this connection's open record");
  std::move(open).close(audit::End::Denied, audit::Source::Internal);
  co_return std::nullopt;
}

}  // namespace chokepoint::proxy
