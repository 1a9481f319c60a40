// How probe results read: one JSON object per destination, and a table for
// people that fits one screen however many fail alike.
#include <algorithm>

#include <catch2/catch.hpp>

#include <chokepoint/probe/render.hpp>

using namespace chokepoint;
using probe::Outcome;

namespace {

policy::Rule rule(const std::string& id, const std::string& service) {
  policy::Rule r;
  r.id = id;
  r.service = service;
  r.description = "What " + service + " does.";
  r.role_names = {"agent"};
  return r;
}

probe::Result result(const policy::Rule& r, const std::string& host, std::uint16_t port,
                     Outcome outcome, const std::string& versions = "") {
  probe::Result out;
  out.target.host.name = host;
  out.target.port = port;
  out.target.ports = std::to_string(port);
  out.target.tls = port == 443;
  out.target.rule = &r;
  out.target.versions = versions;
  out.outcome = outcome;
  return out;
}

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("probe outcomes: names, failures, and a dial's failure classified", "[probe]") {
  CHECK(probe::to_string(Outcome::Ok) == "ok");
  CHECK(probe::to_string(Outcome::Certificate) == "certificate");
  CHECK(probe::to_string(Outcome::NotProbed) == "not_probed");
  CHECK_FALSE(probe::is_failure(Outcome::Ok));
  CHECK_FALSE(probe::is_failure(Outcome::NotProbed));
  CHECK(probe::is_failure(Outcome::Dns));
  CHECK(probe::is_failure(Outcome::Parent));

  using audit::Reason;
  const std::tuple<Reason, bool, Outcome> table[] = {
      {Reason::DnsNotFound, false, Outcome::Dns},
      {Reason::DnsTimeout, false, Outcome::Dns},
      {Reason::DnsError, false, Outcome::Dns},
      {Reason::ForbiddenAddress, false, Outcome::Vetting},
      {Reason::ForbiddenAddress, true, Outcome::Vetting},  // an address literal, through a parent
      {Reason::ConnectRefused, false, Outcome::Connect},
      {Reason::Unreachable, false, Outcome::Connect},
      {Reason::ConnectFailed, false, Outcome::Connect},
      {Reason::ConnectTimeout, false, Outcome::Timeout},
      {Reason::Shutdown, false, Outcome::Timeout},  // the time limit ended it
      {Reason::ConnectRefused, true, Outcome::Parent},
      {Reason::ConnectTimeout, true, Outcome::Parent},
      {Reason::DnsNotFound, true, Outcome::Parent},  // the parent's own name
      {Reason::UpstreamProxyRefused, true, Outcome::Parent},
      {Reason::UpstreamProxyFailed, true, Outcome::Parent},
  };
  for (const auto& [reason, parent, expected] : table) {
    INFO(audit::to_string(reason) << (parent ? " through a parent" : ""));
    CHECK(probe::dial_outcome(reason, parent) == expected);
  }
}

TEST_CASE("probe JSON: one object per destination, every key always there", "[probe]") {
  const auto scan = rule("spn-smart-scan", "Smart Scan");
  auto ok = result(scan, "ds20.icrc.trendmicro.com", 443, Outcome::Ok, "20.0+");
  ok.addresses = {"100.64.1.1", "2001:db8::1"};
  ok.upstream = "100.64.1.1:443";
  ok.dns_ms = 3;
  ok.connect_ms = 12;
  ok.tls_ms = 40;
  CHECK(probe::json_line(ok) ==
        R"({"host":"ds20.icrc.trendmicro.com","port":443,"tls":true,"service":"Smart Scan",)"
        R"("rule":"spn-smart-scan","versions":"20.0+","outcome":"ok","detail":null,)"
        R"("addresses":["100.64.1.1","2001:db8::1"],"upstream":"100.64.1.1:443",)"
        R"("upstream_proxy":null,"dns_ms":3,"connect_ms":12,"tls_ms":40,"subject":null,)"
        R"("issuer":null})");

  auto middlebox = result(scan, "ds20.icrc.trendmicro.com", 443, Outcome::Certificate);
  middlebox.detail = "the certificate did not verify: unable to get local issuer certificate";
  middlebox.subject = "CN=ds20.icrc.trendmicro.com";
  middlebox.issuer = "CN=Corp \"Inspection\" CA";
  middlebox.dns_ms = 0;
  const std::string line = probe::json_line(middlebox);
  CHECK(line.find(R"("outcome":"certificate")") != std::string::npos);
  CHECK(line.find(
            R"("subject":"CN=ds20.icrc.trendmicro.com","issuer":"CN=Corp \"Inspection\" CA")") !=
        std::string::npos);
  CHECK(line.find(R"("dns_ms":0,"connect_ms":null,"tls_ms":null)") != std::string::npos);

  auto range = result(scan, "db.example.com", 11000, Outcome::NotProbed);
  range.target.ports = "11000-11999";
  range.detail = "a port range names no one port to probe";
  CHECK(probe::json_line(range).find(R"("port":null,"ports":"11000-11999")") != std::string::npos);
}

TEST_CASE("probe text: failures first, grouped by what breaks", "[probe]") {
  const auto scan = rule("spn-smart-scan", "Smart Scan");
  const auto files = rule("download-center", "Download Center");
  const auto vision = rule("vision-one", "Vision One");
  std::vector<probe::Result> results;
  results.push_back(result(files, "files.trendmicro.com", 443, Outcome::Ok));
  results.push_back(result(scan, "ds20.icrc.trendmicro.com", 443, Outcome::Ok, "20.0+"));
  auto cert = result(scan, "ds20-jp.icrc.trendmicro.com", 443, Outcome::Certificate, "20.0+");
  cert.detail = "the certificate did not verify: Hostname mismatch";
  cert.subject = "CN=ds20.icrc.trendmicro.com";
  cert.issuer = "CN=chokepoint test CA";
  results.push_back(cert);
  auto dns = result(scan, "ds120.icrc.trendmicro.com", 443, Outcome::Dns, "12.0");
  dns.detail = "ds120.icrc.trendmicro.com: no such name";
  results.push_back(dns);
  auto wild = result(vision, "*.xdr.trendmicro.com", 443, Outcome::NotProbed);
  wild.target.not_probed = wild.detail = "a wildcard names no one host to probe";
  results.push_back(wild);

  probe::RunFacts facts{"role agent", std::chrono::milliseconds(1234), {}, false};
  const std::string text = probe::render_text(results, facts);
  INFO(text);
  CHECK(text.rfind("chokepoint probe, role agent: 4 destinations probed, 2 reachable, 2 not; 1 "
                   "not probed (1.2 s)\n",
                   0) == 0);
  const auto broken = text.find("NOT REACHABLE");
  const auto fine = text.find("REACHABLE\n  ok  Download Center: 1 destination");
  const auto skipped = text.find("NOT PROBED");
  CHECK(broken < fine);
  CHECK(fine < skipped);
  CHECK(skipped != std::string::npos);
  CHECK(text.find("Smart Scan (agents 20.0+): 1 of 2 not reachable\n    What Smart Scan does.\n"
                  "  certificate ds20-jp.icrc.trendmicro.com:443") != std::string::npos);
  CHECK(text.find("Hostname mismatch; presented CN=ds20.icrc.trendmicro.com, issued by "
                  "CN=chokepoint test CA") != std::string::npos);
  CHECK(text.find("Smart Scan (agents 12.0): 1 of 1 not reachable") != std::string::npos);
  CHECK(text.find("*.xdr.trendmicro.com (443)") != std::string::npos);
  CHECK(text.find("2 destinations are not reachable from here") != std::string::npos);

  SECTION("all reachable") {
    std::vector<probe::Result> good{results[0], results[1]};
    const std::string all_good = probe::render_text(good, facts);
    CHECK(all_good.find("NOT REACHABLE") == std::string::npos);
    CHECK(all_good.find("Everything probed is reachable.") != std::string::npos);
  }
}

TEST_CASE("probe text: hundreds failing alike fit one screen", "[probe]") {
  std::vector<policy::Rule> rules;
  rules.reserve(12);
  for (int i = 0; i < 12; ++i)
    rules.push_back(rule("rule-" + std::to_string(i), "Service " + std::to_string(i)));
  std::vector<probe::Result> results;
  for (int i = 0; i < 300; ++i) {
    auto& r = rules[static_cast<std::size_t>(i % 12)];
    auto one = result(r, "host" + std::to_string(i) + ".trendmicro.com", i % 2 ? 443 : 80,
                      Outcome::Dns, i % 3 ? "20.0+" : "12.0");
    one.detail = one.target.host.name + ": no such name";
    results.push_back(one);
  }
  auto wild = result(rules[0], "*.xdr.trendmicro.com", 443, Outcome::NotProbed);
  wild.target.not_probed = wild.detail = "a wildcard names no one host to probe";
  results.push_back(wild);
  const std::string text =
      probe::render_text(results, {"role relay", std::chrono::milliseconds(800), {}, false});
  INFO(text);
  CHECK(lines(text) <= probe::kScreenLines + 5);
  CHECK(text.find("300 destinations probed, 0 reachable, 300 not; 1 not probed") !=
        std::string::npos);
  CHECK(text.find("  dns         300   e.g. host0.trendmicro.com:80: host0.trendmicro.com: no "
                  "such name") != std::string::npos);
  CHECK(text.find("  not_probed  1     e.g. *.xdr.trendmicro.com (443)") != std::string::npos);
  CHECK(text.find("Service 0") != std::string::npos);
  CHECK(text.find("25 of 25 not reachable (dns 25)") != std::string::npos);
  CHECK(text.find("host299") == std::string::npos);
}
