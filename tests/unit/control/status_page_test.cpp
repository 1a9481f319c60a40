// The status page (GET /): what it shows, and that nothing a client sent
// can become markup on it.
#include "control/status_page.hpp"

#include <catch2/catch.hpp>

#include <chokepoint/policy/loader.hpp>

using namespace chokepoint;
using namespace chokepoint::control;

namespace {

// Strings a client controls, as they could reach a record: a SOCKS4a
// domain, a Host header quoted in a detail, a user name.
const std::string kScript = "<script>alert('x')</script>";
const std::string kAttribute = "\"><img src=x onerror=alert(1)>";

StatusPage sample_page(RunningPolicy& policy) {
  StatusPage page;
  page.now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  proxy::Worker::OpenTunnel tunnel;
  tunnel.facts.client = "10.0.8.23:51514";
  tunnel.facts.user = kAttribute;
  tunnel.facts.role = "agent";
  tunnel.facts.host = "ds20.icrc.trendmicro.com";
  tunnel.facts.port = 443;
  tunnel.facts.rule = "spn-smart-scan";
  tunnel.facts.service = "Smart Protection Network";
  tunnel.bytes_up = 2291;
  tunnel.bytes_down = 3 * 1024 * 1024;
  tunnel.age = std::chrono::seconds(3725);
  page.tunnels.push_back(tunnel);
  page.tunnels_open = 1;
  audit::Record denied;
  denied.ts = page.now;
  denied.event = audit::Event::Error;
  denied.client = "10.0.8.24:40000";
  denied.host = kScript;
  denied.port = 443;
  denied.reason = audit::Reason::BadRequest;
  denied.detail = "the SOCKS request names no host: " + kScript + "\x01";
  page.refusals.push_back(denied);
  page.traffic.decisions
      ["allow\x1f"
       "agent\x1f"
       "spn-smart-scan\x1f"
       "Smart Protection Network"] = 7;
  page.traffic.decisions
      ["deny\x1f"
       "agent\x1f\x1f"] = 2;
  page.traffic.service_bytes["Smart Protection Network"] = {1024, 4096};
  page.traffic.refusals["no_matching_rule"] = 2;
  page.sinks.push_back({"file:/var/log/a.jsonl", audit::SinkStats{40, 3},
                        audit::SinkHealth{true, "No space left on device"}});
  page.audit_refuse = true;
  page.audit_available = false;
  page.audit_unavailable = "file:/var/log/a.jsonl: No space left on device";
  page.ready = false;
  page.not_ready = "audit_unavailable: " + page.audit_unavailable;
  policy.source = "/etc/chokepoint/site.yaml";
  policy.sha256 = std::string(64, 'a');
  policy.rules = 30;
  policy.generation = 4;
  page.policy = &policy;
  page.last_reload.at = page.now;
  page.last_reload.why = "SIGHUP";
  page.last_reload.ok = false;
  page.last_reload.message = "site.yaml:3:1: bad <key>\n";
  page.dns.cached = 1;
  page.dns.lookups = 9;
  page.dns.hits = 8;
  net::DnsCacheItem item;
  item.name = "files.trendmicro.com";
  item.addresses.push_back(*IpAddress::parse("203.0.113.7"));
  item.ttl_left_ms = 42'000;
  item.hits = 8;
  page.dns_names.push_back(item);
  return page;
}

}  // namespace

TEST_CASE("status page: tunnels, denials, services, audit, policy, DNS", "[control][status]") {
  RunningPolicy policy;
  const std::string html = render_html(sample_page(policy));
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("<meta http-equiv=\"refresh\" content=\"5\">") != std::string::npos);
  CHECK(html.find("<td>ds20.icrc.trendmicro.com:443</td>") != std::string::npos);
  CHECK(html.find("<td>spn-smart-scan</td>") != std::string::npos);
  CHECK(html.find("3.0 MiB") != std::string::npos);
  CHECK(html.find("1h 02m") != std::string::npos);
  CHECK(html.find("<td>bad_request</td>") != std::string::npos);
  CHECK(html.find("<td>Smart Protection Network</td><td class=\"n\">7</td>") != std::string::npos);
  CHECK(html.find("<td>(no rule)</td><td class=\"n\">0</td><td class=\"n\">0</td><td "
                  "class=\"n\">2</td>") != std::string::npos);
  CHECK(html.find("failing: No space left on device") != std::string::npos);
  CHECK(html.find("refuse new connections") != std::string::npos);
  CHECK(html.find("not ready") != std::string::npos);
  CHECK(html.find("<td>4</td>") != std::string::npos);  // the generation
  CHECK(html.find("refused, the running policy stays") != std::string::npos);
  CHECK(html.find("<td>files.trendmicro.com</td>") != std::string::npos);
  CHECK(html.find("<td class=\"n\">42 s</td>") != std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
}

TEST_CASE("status page: hostile strings are text, never markup", "[control][status]") {
  RunningPolicy policy;
  const std::string html = render_html(sample_page(policy));
  CHECK(html.find(kScript) == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;:443") != std::string::npos);
  CHECK(html.find("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
  CHECK(html.find("bad &lt;key&gt;") != std::string::npos);
  CHECK(html.find('\x01') == std::string::npos);
  // Every tag on the page is one of ours.
  for (std::size_t at = html.find('<'); at != std::string::npos; at = html.find('<', at + 1)) {
    const std::string tag = html.substr(at + 1, html.find_first_of(" >", at) - at - 1);
    INFO(tag);
    CHECK((tag == "!DOCTYPE" || tag == "html" || tag == "/html" || tag == "head" ||
           tag == "/head" || tag == "meta" || tag == "title" || tag == "/title" || tag == "style" ||
           tag == "/style" || tag == "body" || tag == "/body" || tag == "h1" || tag == "/h1" ||
           tag == "h2" || tag == "/h2" || tag == "p" || tag == "/p" || tag == "span" ||
           tag == "/span" || tag == "table" || tag == "/table" || tag == "tr" || tag == "/tr" ||
           tag == "th" || tag == "/th" || tag == "td" || tag == "/td" || tag == "div" ||
           tag == "/div" || tag == "pre" || tag == "/pre" || tag == "a" || tag == "/a"));
  }
}

TEST_CASE("status page: an idle proxy says so", "[control][status]") {
  RunningPolicy policy;
  StatusPage page;
  page.policy = &policy;
  const std::string html = render_html(page);
  CHECK(html.find("Open tunnels (0)") != std::string::npos);
  CHECK(html.find("none since start") != std::string::npos);
  CHECK(html.find("no decision yet") != std::string::npos);
  CHECK(html.find("<span class=\"ok\">writing</span>") != std::string::npos);
}

TEST_CASE("status page: which built-in catalogs the policy is made of, and their region",
          "[control][status][saas]") {
  const auto row = [](const std::string& text) {
    auto loaded = policy::load_config_text(text, "site.yaml");
    REQUIRE(loaded.ok());
    auto built = policy::Snapshot::build(std::move(loaded).value().policy);
    REQUIRE(built.ok());
    RunningPolicy policy = RunningPolicy::started("site.yaml", "", built.value());
    StatusPage page;
    page.policy = &policy;
    const std::string html = render_html(page);
    const auto at = html.find("<tr><th>catalogs</th><td>");
    REQUIRE(at != std::string::npos);
    const auto start = at + std::string("<tr><th>catalogs</th><td>").size();
    return html.substr(start, html.find("</td>", start) - start);
  };
  CHECK(row("version: 1\ninclude: builtin:workload-security.yaml\nvariables:\n"
            "  workload_security_region: [jp-1]\n") ==
        "builtin:workload-security.yaml (workload_security_region: jp-1)");
  CHECK(row("version: 1\ninclude: builtin:workload-security.yaml\n") ==
        "builtin:workload-security.yaml (workload_security_region: (none))");
  CHECK(row("version: 1\ninclude: [builtin:deep-security.yaml, builtin:workload-security.yaml]\n"
            "variables: {workload_security_region: [de-1]}\n") ==
        "builtin:deep-security.yaml, builtin:workload-security.yaml (workload_security_region: "
        "de-1)");
  CHECK(row("version: 1\nrules: [{id: r, destinations: [a.example.com]}]\n") == "none built in");
}
