// The record life cycle of an exchange (src/proxy/exchange_record.hpp):
// exactly one terminal record, whatever path the exchange took.
#include "exchange_record.hpp"

#include <deque>

#include <catch2/catch.hpp>

#include "stage_fixture.hpp"

using namespace chokepoint;
using namespace chokepoint::proxy;
using audit::Event;
using audit::Reason;
using audit::Source;

namespace {

// The records' storage, as a session keeps it; stable addresses.
std::deque<audit::Record> storage;

PendingRecord pending(test::StageFixture& f, const std::string& host) {
  audit::Record& record = storage.emplace_back();
  record.host = host;
  record.client = "10.0.0.9:50000";
  return PendingRecord(f.queue, record, std::chrono::steady_clock::now());
}

}  // namespace

TEST_CASE("a refusal leaves one record: deny for the proxy's no, error for a failure",
          "[proxy][record]") {
  test::StageFixture f;
  {
    PendingRecord denied = pending(f, "evil.example");
    std::move(denied).refuse(Reason::NoMatchingRule, "no rule");
    PendingRecord failed = pending(f, "gone.example");
    failed->decision = audit::Decision::Allow;
    std::move(failed).refuse(Reason::ConnectRefused, "refused");
    PendingRecord garbled = pending(f, "");
    std::move(garbled).refuse(Reason::BadRequest, "origin-form");
  }
  const auto records = f.records();
  REQUIRE(records.size() == 3);
  CHECK(records[0].event == Event::Deny);
  CHECK(records[0].decision == audit::Decision::Deny);
  CHECK(records[0].source == Source::Policy);
  CHECK(records[0].detail == "no rule");
  CHECK(records[1].event == Event::Error);
  CHECK(records[1].decision == audit::Decision::Allow);  // decided, then the dial failed
  CHECK(records[1].source == Source::Upstream);
  CHECK(records[2].event == Event::Error);
  CHECK(records[2].source == Source::Client);
  CHECK(records[0].id != records[1].id);
}

TEST_CASE("an open exchange ends in one close under the same id", "[proxy][record]") {
  test::StageFixture f;
  {
    PendingRecord record = pending(f, "ds20.icrc.trendmicro.com");
    record->status = 200;
    record->detail = "for the open record only";
    OpenRecord open = std::move(record).open();
    open->bytes_up = 10;
    open.deny_inside(Reason::SniMismatch, "names another host");
    std::move(open).close(audit::End::Denied, Source::Policy);
  }
  const auto records = f.records();
  REQUIRE(records.size() == 3);
  CHECK(records[0].event == Event::Open);
  CHECK(records[0].status == 200);
  CHECK(records[0].detail == "for the open record only");
  CHECK(records[0].source == Source::None);  // not a terminal record
  CHECK(records[1].event == Event::Deny);
  CHECK(records[1].reason == Reason::SniMismatch);
  CHECK(records[2].event == Event::Close);
  CHECK(records[2].status == 0);
  CHECK(records[2].end == audit::End::Denied);
  CHECK(records[2].source == Source::Policy);
  CHECK(records[2].bytes_up == 10);
  CHECK(records[0].id == records[1].id);
  CHECK(records[1].id == records[2].id);
}

TEST_CASE("an exchange nobody ended still leaves its terminal record", "[proxy][record]") {
  test::StageFixture f;
  {
    PendingRecord forgotten = pending(f, "a.example");
    PendingRecord moved = pending(f, "b.example");
    PendingRecord taken = std::move(moved);  // only the new owner writes
    std::move(taken).refuse(Reason::DnsTimeout);
    OpenRecord open = pending(f, "c.example").open();
  }
  const auto records = f.records();
  REQUIRE(records.size() == 4);
  CHECK(records[0].host == "b.example");
  CHECK(records[0].reason == Reason::DnsTimeout);
  CHECK(records[1].event == Event::Open);
  CHECK(records[2].event == Event::Close);  // the open one, destroyed first
  CHECK(records[2].host == "c.example");
  CHECK(records[2].source == Source::Internal);
  CHECK(records[3].event == Event::Error);
  CHECK(records[3].host == "a.example");
  CHECK(records[3].reason == Reason::InternalError);
}
