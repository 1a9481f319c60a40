#include <ctime>

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

TEST_CASE("timestamps agree with the C library's, across leap years and centuries", "[audit]") {
  const auto with_libc = [](std::int64_t micros) {
    const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[40];
    const auto n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(buffer + n, sizeof buffer - n, ".%06lldZ",
                  static_cast<long long>(micros % 1000000));
    return std::string(buffer);
  };
  std::uint64_t state = 42;
  for (int i = 0; i < 200000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    // 1970 to about 2285, microseconds.
    const auto micros =
        static_cast<std::int64_t>(state >> 11) % (std::int64_t{10'000'000'000} * 1'000'000);
    const auto ts = std::chrono::system_clock::time_point(std::chrono::microseconds(micros));
    REQUIRE(format_timestamp(ts) == with_libc(micros));
  }
  for (const std::int64_t day :
       {0LL, 59LL, 60LL, 10957LL, 11016LL, 11017LL, 47541LL}) {  // 2000-02-29, 2100-03-01
    const std::int64_t micros = day * 86'400'000'000LL + 86'399'999'999LL;
    CHECK(format_timestamp(std::chrono::system_clock::time_point(
              std::chrono::microseconds(micros))) == with_libc(micros));
  }
}

TEST_CASE("balancer and parent proxy keys appear only when they apply", "[audit]") {
  Record r;
  r.client = "10.0.8.23:51514";
  const std::string plain = to_json_line(r);
  CHECK(plain.find("\"via\"") == std::string::npos);
  CHECK(plain.find("\"upstream_proxy") == std::string::npos);
  r.via = "10.0.0.2:40000";
  r.upstream_proxy = "proxy.corp.example:3128";
  r.upstream_proxy_status = 403;
  r.reason = Reason::UpstreamProxyRefused;
  const std::string line = to_json_line(r);
  CHECK(line.find(R"("via":"10.0.0.2:40000")") != std::string::npos);
  CHECK(line.find(R"("upstream_proxy":"proxy.corp.example:3128","upstream_proxy_status":403)") !=
        std::string::npos);
  CHECK(line.find(R"("reason":"upstream_proxy_refused")") != std::string::npos);
  CHECK(to_string(Reason::ProxyHeaderRefused) == "proxy_header_refused");
  CHECK(event_of(Reason::ProxyHeaderRefused) == Event::Deny);
  CHECK(event_of(Reason::ProxyHeaderMissing) == Event::Error);
  CHECK(source_of(Reason::UpstreamProxyRefused) == Source::Upstream);
}

TEST_CASE("a record with every field set keeps every key, in its order", "[audit]") {
  // The whole contract in one line: the keys, their order, and how each is
  // written. A row of record_fields.hpp moved, renamed or given another
  // Presence changes this line.
  Record r;
  r.ts = std::chrono::system_clock::time_point(std::chrono::microseconds(1764100731000001));
  r.event = Event::Close;
  r.id = "abc-0-2";
  r.client = "10.0.0.9:50000";
  r.user = "relay01";
  r.role = "relay";
  r.version = "20.0";
  r.identity = "inventory";
  r.computer = "relay-01.corp.example";
  r.computer_id = 42;
  r.mode = Mode::Socks;
  r.host = "ds20.icrc.trendmicro.com";
  r.port = 443;
  r.sni = "ds20.icrc.trendmicro.com";
  r.http_host = "ds20.icrc.trendmicro.com:443";
  r.orig_dst = "203.0.113.9:443";
  r.upstream = "203.0.113.7:3128";
  r.decision = Decision::Log;
  r.rule = "spn-smart-scan";
  r.service = "Smart Scan";
  r.reason = Reason::RuleLogs;
  r.source = Source::Client;
  r.detail = "a sentence";
  r.enforced = false;
  r.method = "GET";
  r.path = "/x";
  r.status = 200;
  r.relay = RelayPath::Copy;
  r.end = End::HalfCloseTimeout;
  r.bytes_up = 18446744073709551615ULL;
  r.bytes_down = 7;
  r.duration_ms = 915;
  r.dns = "coalesced";
  r.dns_ms = 0;
  r.connect_ms = 12;
  r.socks_version = "5";
  r.socks_method = "username_password";
  r.socks_user_id = "agent";
  r.suppressed = 3;
  r.via = "10.0.0.2:40000";
  r.upstream_proxy = "proxy.corp.example:3128";
  r.upstream_proxy_status = 200;
  CHECK(to_json_line(r) ==
        R"({"ts":"2025-11-25T19:58:51.000001Z","event":"close","id":"abc-0-2",)"
        R"("client":"10.0.0.9:50000","user":"relay01","role":"relay","mode":"socks",)"
        R"("host":"ds20.icrc.trendmicro.com","port":443,"sni":"ds20.icrc.trendmicro.com",)"
        R"("http_host":"ds20.icrc.trendmicro.com:443","orig_dst":"203.0.113.9:443",)"
        R"("upstream":"203.0.113.7:3128","decision":"log","rule":"spn-smart-scan",)"
        R"("reason":"rule_logs","enforced":false,"bytes_up":18446744073709551615,)"
        R"("bytes_down":7,"duration_ms":915,"version":"20.0","identity":"inventory",)"
        R"("computer":"relay-01.corp.example","computer_id":42,"service":"Smart Scan",)"
        R"("dns":"coalesced","dns_ms":0,"connect_ms":12,"method":"GET","path":"/x",)"
        R"("status":200,"relay":"copy","end":"half_close_timeout","source":"client",)"
        R"("socks_version":"5","socks_method":"username_password","socks_user_id":"agent",)"
        R"("via":"10.0.0.2:40000","upstream_proxy":"proxy.corp.example:3128",)"
        R"("upstream_proxy_status":200,"suppressed":3,"detail":"a sentence"})"
        "\n");
  // Unset, each key as its Presence says: null, absent, or written as it is.
  Record empty;
  empty.ts = r.ts;
  CHECK(to_json_line(empty) ==
        R"({"ts":"2025-11-25T19:58:51.000001Z","event":"error","id":"","client":null,)"
        R"("user":null,"role":null,"mode":"connect","host":null,"port":null,"sni":null,)"
        R"("http_host":null,"orig_dst":null,"upstream":null,"decision":null,"rule":null,)"
        R"("reason":null,"enforced":true,"bytes_up":0,"bytes_down":0,"duration_ms":0})"
        "\n");
  CHECK(event_from("close") == Event::Close);
  CHECK(event_from("deny") == Event::Deny);
  CHECK(!event_from("Open"));
}
