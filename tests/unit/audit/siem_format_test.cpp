// SIEM formats against golden strings: what a receiver parses must not drift.
#include <catch2/catch.hpp>

#include <chokepoint/audit/siem_format.hpp>

using namespace chokepoint;
using namespace chokepoint::audit;

namespace {

Record denied_record() {
  Record r;
  r.ts = std::chrono::system_clock::time_point(std::chrono::microseconds(1764100731123456));
  r.event = Event::Deny;
  r.id = "abc-0-7";
  r.client = "10.0.0.9:50000";
  r.role = "agent";
  r.mode = Mode::Connect;
  r.host = "evil.example";
  r.port = 443;
  r.decision = Decision::Deny;
  r.reason = Reason::NoMatchingRule;
  return r;
}

}  // namespace

TEST_CASE("CEF lines carry the standard keys", "[audit][siem]") {
  Record r = denied_record();
  CHECK(
      format_cef(r, "0.1.0") ==
      "CEF:0|Trend Micro|chokepoint|0.1.0|deny|Connection denied|7|rt=1764100731123 "
      "src=10.0.0.9 spt=50000 dpt=443 dhost=evil.example act=deny reason=no_matching_rule "
      "outcome=failure cs2Label=role cs2=agent cs4Label=mode cs4=connect cs5Label=id cs5=abc-0-7");

  r.event = Event::Close;
  r.decision = Decision::Allow;
  r.reason = Reason::RuleAllows;
  r.rule = "spn-smart-scan";
  r.host = "ds20.icrc.trendmicro.com";
  r.upstream = "[2001:db8::7]:443";
  r.user = "ops";
  r.bytes_up = 10;
  r.bytes_down = 2000;
  CHECK(format_cef(r, "0.1.0") ==
        "CEF:0|Trend Micro|chokepoint|0.1.0|close|Connection closed|3|rt=1764100731123 "
        "src=10.0.0.9 spt=50000 dst=2001:db8::7 dpt=443 dhost=ds20.icrc.trendmicro.com suser=ops "
        "act=allow reason=rule_allows outcome=success in=2000 out=10 cs1Label=rule "
        "cs1=spn-smart-scan cs2Label=role cs2=agent cs4Label=mode cs4=connect cs5Label=id "
        "cs5=abc-0-7");

  // Behind a balancer, through a parent: the flex strings name them.
  r.via = "10.0.0.2:41000";
  r.upstream_proxy = "proxy.corp.example:8080";
  const std::string line = format_cef(r, "0.1.0");
  CHECK(
      line.find(" flexString1Label=via flexString1=10.0.0.2:41000 flexString2Label=upstream_proxy "
                "flexString2=proxy.corp.example:8080") != std::string::npos);

  // A computer the manager's inventory named: the source's host, its ID,
  // and how the role was found.
  r.computer = "web-01.corp.example";
  r.computer_id = 42;
  r.identity = "inventory";
  const std::string known = format_cef(r, "0.1.0");
  CHECK(known.find(" suser=ops shost=web-01.corp.example act=allow ") != std::string::npos);
  CHECK(known.ends_with(" cn1Label=computer_id cn1=42 identity=inventory"));
}

TEST_CASE("CEF escapes what would split a header or an extension", "[audit][siem]") {
  Record r = denied_record();
  r.user = "a=b\\c\nd";
  r.sni = "x|y";
  const std::string line = format_cef(r, "1|2");
  CHECK(line.rfind("CEF:0|Trend Micro|chokepoint|1\\|2|deny|", 0) == 0);
  CHECK(line.find("suser=a\\=b\\\\c\\nd ") != std::string::npos);
  CHECK(line.find("cs3=x|y") != std::string::npos);  // '|' is literal in extensions
  CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("CEF replaces invalid UTF-8 as the JSON record does", "[audit][siem]") {
  Record r = denied_record();
  // A SOCKS domain or an SNI may be any bytes: invalid, overlong, a
  // surrogate, truncated; valid UTF-8 beside them passes through.
  r.host = "b\xc3\xbc\xff\xc0\xaf\xed\xa0\x80.example";
  r.sni = "\xf0\x9f\x98\x80\xe2\x82";
  const std::string line = format_cef(r, "0.1.0");
  const std::string fffd = "\xef\xbf\xbd";
  CHECK(line.find("dhost=b\xc3\xbc" + fffd + fffd + fffd + fffd + fffd + fffd + ".example ") !=
        std::string::npos);
  CHECK(line.find("cs3=\xf0\x9f\x98\x80" + fffd + fffd + " ") != std::string::npos);
  // The JSON sink says the same: one U+FFFD per byte that begins no sequence.
  const std::string json = format_rfc5424(r, SiemFormat::Json, "gw1", 1, "0.1.0");
  CHECK(json.find("\"host\":\"b\xc3\xbc\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd.example\"") !=
        std::string::npos);
}

TEST_CASE("RFC 5424 messages carry the JSON record or the CEF line", "[audit][siem]") {
  const Record r = denied_record();
  const std::string json = format_rfc5424(r, SiemFormat::Json, "gw1", 42, "0.1.0");
  CHECK(json.rfind("<132>1 2025-11-25T19:58:51.123456Z gw1 chokepoint 42 deny - {\"ts\":", 0) == 0);
  CHECK(json.back() == '}');
  const std::string cef = format_rfc5424(r, SiemFormat::Cef, "", 42, "0.1.0");
  CHECK(cef.rfind("<132>1 2025-11-25T19:58:51.123456Z - chokepoint 42 deny - CEF:0|", 0) == 0);
  Record open = r;
  open.event = Event::Open;
  CHECK(format_rfc5424(open, SiemFormat::Json, "gw1", 1, "0.1.0").rfind("<134>1 ", 0) == 0);
}

TEST_CASE("octet counting frames a message by its length in bytes", "[audit][siem]") {
  CHECK(octet_counted("hello") == "5 hello");
  CHECK(octet_counted("") == "0 ");
  CHECK(octet_counted("\xc3\xa9") == "2 \xc3\xa9");
}

TEST_CASE("syslog destinations parse as operators write them", "[audit][siem]") {
  std::string error;
  auto t = SyslogTarget::parse("tcp://siem.example:6514/cef", &error);
  REQUIRE(t);
  CHECK(t->transport == SyslogTarget::Transport::Tcp);
  CHECK(t->host == "siem.example");
  CHECK(t->port == 6514);
  CHECK(t->format == SiemFormat::Cef);
  CHECK(t->to_string() == "tcp://siem.example:6514/cef");
  t = SyslogTarget::parse("udp://[2001:db8::1]", &error);
  REQUIRE(t);
  CHECK(t->port == 514);
  CHECK(t->to_string() == "udp://[2001:db8::1]:514/json");
  CHECK_FALSE(SyslogTarget::parse("http://siem:514", &error));
  CHECK(error.find("unknown scheme 'http'") != std::string::npos);
  CHECK_FALSE(SyslogTarget::parse("tls://siem:514/xml", &error));
  CHECK_FALSE(SyslogTarget::parse("tcp://siem:99999", &error));
  CHECK_FALSE(SyslogTarget::parse("siem:514", &error));
}

TEST_CASE("a probe record's CEF outcome is the destination's new one", "[audit][siem]") {
  Record r = denied_record();
  r.event = Event::Probe;
  r.decision = Decision::None;
  r.reason = Reason::None;
  r.detail = "connect: Connection refused (tried 127.0.0.1) (was ok)";
  CHECK(format_cef(r, "0.1.0").find(" outcome=failure") != std::string::npos);
  r.detail = "ok (was connect)";
  CHECK(format_cef(r, "0.1.0").find(" outcome=success") != std::string::npos);
}
