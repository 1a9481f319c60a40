#include <catch2/catch.hpp>

#include <chokepoint/audit/record.hpp>

using namespace chokepoint::audit;

TEST_CASE("audit records carry every DESIGN.md key", "[audit]") {
  Record r;
  r.ts = std::chrono::system_clock::time_point(std::chrono::microseconds(1764100731123456));
  r.event = Event::Open;
  r.id = "abc-0-1";
  r.client = "10.0.0.9:50000";
  r.role = "agent";
  r.mode = Mode::Connect;
  r.host = "ds20.icrc.trendmicro.com";
  r.port = 443;
  r.upstream = "203.0.113.7:443";
  r.decision = Decision::Allow;
  r.rule = "spn-smart-scan";
  r.reason = Reason::RuleAllows;
  r.bytes_up = 5;
  CHECK(
      to_json_line(r) ==
      R"({"ts":"2025-11-25T19:58:51.123456Z","event":"open","id":"abc-0-1","client":"10.0.0.9:50000",)"
      R"("user":null,"role":"agent","mode":"connect","host":"ds20.icrc.trendmicro.com","port":443,"sni":null,)"
      R"("http_host":null,"orig_dst":null,"upstream":"203.0.113.7:443","decision":"allow",)"
      R"("rule":"spn-smart-scan","reason":"rule_allows","enforced":true,"bytes_up":5,"bytes_down":0,)"
      R"("duration_ms":0})"
      "\n");
}

TEST_CASE("hostile strings stay inside their JSON values", "[audit]") {
  Record r;
  r.http_host = "evil\"},\"decision\":\"allow\r\n{\"x\":\"";
  r.sni = std::string("a\0b\x1b", 4);
  r.path = "/\xff\xfe";
  const std::string line = to_json_line(r);
  CHECK(line.find('\n') == line.size() - 1);
  CHECK(line.find(R"("http_host":"evil\"},\"decision\":\"allow\r\n{\"x\":\"")") !=
        std::string::npos);
  CHECK(line.find(R"("sni":"a\u0000b\u001b")") != std::string::npos);
  CHECK(line.find(R"("path":"/\ufffd\ufffd")") != std::string::npos);
}
