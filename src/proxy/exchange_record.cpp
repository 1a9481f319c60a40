#include "exchange_record.hpp"

#include <chokepoint/proxy/worker.hpp>

namespace chokepoint::proxy {
namespace {

using Clock = std::chrono::steady_clock;

void stamp(audit::Record& record, audit::Event event, Clock::time_point started) {
  record.event = event;
  record.ts = std::chrono::system_clock::now();
  record.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
}

}  // namespace

PendingRecord::PendingRecord(Worker& worker, audit::Record& record, Clock::time_point started)
    : worker_(&worker), record_(&record), started_(started) {
  record.id = worker.next_id();
}

PendingRecord::PendingRecord(PendingRecord&& other) noexcept
    : worker_(std::exchange(other.worker_, nullptr)),
      record_(other.record_),
      started_(other.started_) {}

PendingRecord::~PendingRecord() {
  if (worker_) std::move(*this).refuse(audit::Reason::InternalError, "ended without a record");
}

void PendingRecord::refuse(audit::Reason reason, std::string detail) && {
  Worker* worker = std::exchange(worker_, nullptr);
  audit::Record& record = *record_;
  record.reason = reason;
  record.source = audit::source_of(reason);
  const audit::Event event = audit::event_of(reason);
  if (event == audit::Event::Deny) record.decision = audit::Decision::Deny;
  if (!detail.empty()) record.detail = std::move(detail);
  stamp(record, event, started_);
  worker->write_record(std::move(record));
}

OpenRecord PendingRecord::open() && {
  Worker* worker = std::exchange(worker_, nullptr);
  audit::Record& record = *record_;
  stamp(record, audit::Event::Open, started_);
  worker->write_record(record);
  record.status = 0;
  record.detail.clear();
  return OpenRecord(*worker, record, started_);
}

OpenRecord::OpenRecord(Worker& worker, audit::Record& record, Clock::time_point started)
    : worker_(&worker), record_(&record), started_(started) {}

OpenRecord::OpenRecord(OpenRecord&& other) noexcept
    : worker_(std::exchange(other.worker_, nullptr)),
      record_(other.record_),
      started_(other.started_) {}

OpenRecord::~OpenRecord() {
  if (!worker_) return;
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
  worker_->write_record(record);
  record.source = audit::Source::None;
}

void OpenRecord::close(audit::End end, audit::Source source) && {
  Worker* worker = std::exchange(worker_, nullptr);
  audit::Record& record = *record_;
  record.end = end;
  record.source = source;
  stamp(record, audit::Event::Close, started_);
  worker->write_record(std::move(record));
}

}  // namespace chokepoint::proxy
