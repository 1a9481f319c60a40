// What the background probes show: GET /probe, chokepoint_destination_up,
// and the status page's Reachability section.
#include "control/probe_page.hpp"

#include <catch2/catch.hpp>

#include "control/metrics_page.hpp"
#include "control/status_page.hpp"

using namespace chokepoint;
using namespace chokepoint::control;

namespace {

using Time = std::chrono::system_clock::time_point;
const Time kT0 = Time(std::chrono::seconds(1'700'000'000));

probe::Watched watched(std::string host, std::uint16_t port, probe::Outcome outcome,
                       std::string service, std::string detail = {}) {
  probe::Watched w;
  REQUIRE(normalize_host(host, w.result.target.host) == HostError::None);
  w.result.target.port = port;
  w.result.target.ports = std::to_string(port);
  w.result.target.tls = port == 443;
  w.result.outcome = outcome;
  w.result.detail = std::move(detail);
  w.service = std::move(service);
  w.rule = "r";
  w.role = "agent";
  w.probed_at = kT0;
  w.since = kT0 - std::chrono::seconds(90);
  if (outcome == probe::Outcome::Ok) {
    w.result.addresses = {"192.0.2.7"};
    w.result.upstream = "192.0.2.7:443";
    w.result.dns_ms = 3;
    w.result.connect_ms = 4;
    w.result.tls_ms = 5;
  }
  return w;
}

ProbePage sample() {
  ProbePage page;
  page.enabled = true;
  page.now = kT0 + std::chrono::seconds(2);
  page.view.interval = std::chrono::minutes(5);
  page.view.targets = 3;
  page.view.rounds = 4;
  page.view.last_probe = kT0;
  page.view.watched.push_back(
      watched("ds20.icrc.example.com", 443, probe::Outcome::Ok, "Smart Scan"));
  page.view.watched.push_back(watched("relay.example.com", 4122, probe::Outcome::Connect,
                                      "Relay \"updates\"", "<b>connection refused</b>"));
  return page;
}

}  // namespace

TEST_CASE("GET /probe: every destination, failures first, each step's time", "[control][probe]") {
  const std::string json = render_probe(sample());
  CHECK(json.starts_with(
      "{\"enabled\":true,\"interval_ms\":300000,\"rounds\":4,\"destinations\":3,\"probed\":2,"
      "\"failing\":1,\"last_probe\":\"2023-11-14T22:13:20.000000Z\",\"results\":["));
  CHECK(json.ends_with("]}\n"));
  const auto failing = json.find("\"host\":\"relay.example.com\"");
  const auto ok = json.find("\"host\":\"ds20.icrc.example.com\"");
  REQUIRE(failing != std::string::npos);
  REQUIRE(ok != std::string::npos);
  CHECK(failing < ok);
  CHECK(json.find("{\"host\":\"ds20.icrc.example.com\",\"port\":443,\"tls\":true,"
                  "\"service\":\"Smart Scan\",\"rule\":\"r\",\"role\":\"agent\",\"versions\":null,"
                  "\"outcome\":\"ok\",\"up\":true,\"detail\":null,\"addresses\":[\"192.0.2.7\"],"
                  "\"upstream\":\"192.0.2.7:443\",\"upstream_proxy\":null,\"dns_ms\":3,"
                  "\"connect_ms\":4,\"tls_ms\":5,\"subject\":null,\"issuer\":null,"
                  "\"probed_at\":\"2023-11-14T22:13:20.000000Z\","
                  "\"since\":\"2023-11-14T22:11:50.000000Z\",\"changes\":0}") != std::string::npos);
  CHECK(json.find("\"service\":\"Relay \\\"updates\\\"\"") != std::string::npos);
  CHECK(
      json.find("\"outcome\":\"connect\",\"up\":false,\"detail\":\"<b>connection refused</b>\"") !=
      std::string::npos);
  CHECK(json.find("\"dns_ms\":null,\"connect_ms\":null,\"tls_ms\":null") != std::string::npos);
}

TEST_CASE("GET /probe without --probe-interval says it is off", "[control][probe]") {
  CHECK(render_probe(ProbePage{}) ==
        "{\"enabled\":false,\"interval_ms\":0,\"rounds\":0,\"destinations\":0,\"probed\":0,"
        "\"failing\":0,\"last_probe\":null,\"results\":[]}\n");
}

TEST_CASE("chokepoint_destination_up: 1 or 0 per service, host and port",
          "[control][probe][metrics]") {
  RunningPolicy policy;
  MetricsPage page;
  page.policy = &policy;
  page.probe = sample();
  const std::string text = render(page);
  CHECK(
      text.find(
          "# TYPE chokepoint_destination_up gauge\n"
          "chokepoint_destination_up{service=\"Relay \\\"updates\\\"\",host=\"relay.example.com\","
          "port=\"4122\"} 0\n"
          "chokepoint_destination_up{service=\"Smart Scan\",host=\"ds20.icrc.example.com\","
          "port=\"443\"} 1\n") != std::string::npos);
  CHECK(text.find("# TYPE chokepoint_probe_last_timestamp_seconds gauge\n"
                  "chokepoint_probe_last_timestamp_seconds 1700000000\n") != std::string::npos);

  // Before the first probe: the families, no made-up time.
  page.probe->view.watched.clear();
  page.probe->view.last_probe = {};
  const std::string early = render(page);
  CHECK(early.find("# TYPE chokepoint_destination_up gauge\n") != std::string::npos);
  CHECK(early.find("chokepoint_probe_last_timestamp_seconds") == std::string::npos);

  // Without --probe-interval: neither.
  page.probe.reset();
  CHECK(render(page).find("chokepoint_destination_up") == std::string::npos);
}

TEST_CASE("status page: the Reachability section, failures first, escaped", "[control][probe]") {
  RunningPolicy policy;
  StatusPage page;
  page.now = kT0 + std::chrono::seconds(2);
  page.policy = &policy;
  CHECK(render_html(page).find("Reachability") == std::string::npos);
  page.probe = sample();
  const std::string html = render_html(page);
  const auto section = html.find("<h2 id=\"reachability\">Reachability</h2>");
  REQUIRE(section != std::string::npos);
  CHECK(html.find("3 destinations probed every 300 s; <span class=\"bad\">1 unreachable</span> "
                  "&middot; last probe 2s ago") != std::string::npos);
  const auto bad = html.find("<td class=\"bad\">connect</td><td>relay.example.com:4122</td>");
  const auto good = html.find("<td class=\"ok\">ok</td><td>ds20.icrc.example.com:443</td>");
  REQUIRE(bad != std::string::npos);
  REQUIRE(good != std::string::npos);
  CHECK(bad < good);
  CHECK(html.find("<b>connection refused</b>") == std::string::npos);
  CHECK(html.find("&lt;b&gt;connection refused&lt;/b&gt;") != std::string::npos);
}
