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

PendingRecord::PendingRecord(Worker& worker, audit::Record facts, Clock::time_point started)
    : worker_(&worker), record_(std::move(facts)), started_(started) {
  record_.id = worker.next_id();
}

PendingRecord::PendingRecord(PendingRecord&& other) noexcept
    : worker_(std::exchange(other.worker_, nullptr)),
      record_(std::move(other.record_)),
      started_(other.started_) {}

PendingRecord::~PendingRecord() {
  if (worker_) std::move(*this).refuse(audit::Reason::InternalError, "ended without a record");
}

void PendingRecord::refuse(audit::Reason reason, std::string detail) && {
  Worker* worker = std::exchange(worker_, nullptr);
  record_.reason = reason;
  record_.source = audit::source_of(reason);
  const audit::Event event = audit::event_of(reason);
  if (event == audit::Event::Deny) record_.decision = audit::Decision::Deny;
  if (!detail.empty()) record_.detail = std::move(detail);
  stamp(record_, event, started_);
  worker->write_record(std::move(record_));
}

OpenRecord PendingRecord::open() && {
  Worker* worker = std::exchange(worker_, nullptr);
  stamp(record_, audit::Event::Open, started_);
  worker->write_record(record_);
  record_.status = 0;
  record_.detail.clear();
  return OpenRecord(*worker, std::move(record_), started_);
}

OpenRecord::OpenRecord(Worker& worker, audit::Record record, Clock::time_point started)
    : worker_(&worker), record_(std::move(record)), started_(started) {}

OpenRecord::OpenRecord(OpenRecord&& other) noexcept
    : worker_(std::exchange(other.worker_, nullptr)),
      record_(std::move(other.record_)),
      started_(other.started_) {}

OpenRecord::~OpenRecord() {
  if (!worker_) return;
  record_.detail = "ended without a record";
  std::move(*this).close(audit::End::Reset, audit::Source::Internal);
}

void OpenRecord::deny_inside(audit::Reason reason, std::string detail) {
  record_.decision = audit::Decision::Deny;
  record_.reason = reason;
  record_.source = audit::source_of(reason);
  record_.detail = std::move(detail);
  stamp(record_, audit::Event::Deny, started_);
  worker_->write_record(record_);
  record_.source = audit::Source::None;
}

void OpenRecord::close(audit::End end, audit::Source source) && {
  Worker* worker = std::exchange(worker_, nullptr);
  record_.end = end;
  record_.source = source;
  stamp(record_, audit::Event::Close, started_);
  worker->write_record(std::move(record_));
}

}  // namespace chokepoint::proxy
