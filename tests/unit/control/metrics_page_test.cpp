// /metrics text: byte for byte what Prometheus clients and the README have
// always read, from the one table of families.
#include "control/metrics_page.hpp"

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "control/metric_families.hpp"

using namespace chokepoint;
using namespace chokepoint::control;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

MetricsPage sample_page(RunningPolicy& policy) {
  MetricsPage page;
  page.traffic.decisions
      ["allow\x1f"
       "agent\x1f"
       "r1\x1f"
       "svc \"q\""] = 2;
  page.traffic.records["open"] = 2;
  page.traffic.records["close"] = 1;
  page.traffic.refusals["no_matching_rule"] = 1;
  page.traffic.bytes_up = 10;
  page.traffic.bytes_down = 20;
  page.traffic.dns.observe(3);
  page.traffic.open_tunnels = 1;
  page.buffer_bytes = 4096;
  page.buffer_limit = 65536;
  page.sinks.push_back({"stdout", audit::SinkStats{5, 0}, audit::SinkHealth{}});
  page.traffic.accept_failures["emfile"] = 4;
  page.dns.lookups = 9;
  page.dns.hits = 7;
  page.dns.misses = 1;
  page.dns.coalesced = 1;
  page.dns.queries = 2;
  page.dns.answers = 1;
  page.dns.cached = 1;
  page.dns.latency[2] = 1;  // 3 ms: in the 5 ms bucket
  page.dns.latency_count = 1;
  page.dns.latency_sum_ms = 3;
  page.traffic.health_checks = 6;
  auth::AuthStats auth;
  auth.throttled_client = 280;
  auth.hashing.done = 12;
  auth.hashing.client_busy = 8;
  auth.hashing.dropped = 3;
  auth.hashing.queued = 2;
  page.auth = auth;
  policy.reloads = 1;
  policy.reload_failures = 2;
  policy.rules = 3;
  policy.loaded_at = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  page.policy = &policy;
  return page;
}

// A page with an inventory: two computers, one address they share.
InventoryPage inventory_page() {
  using inventory::Computer;
  std::vector<Computer> list(2);
  list[0].id = 1;
  list[0].host_name = "web-01";
  list[0].agent_version = "20.0.1.690";
  list[0].addresses = {*IpAddress::parse("10.0.0.1"), *IpAddress::parse("10.0.0.9")};
  list[1].id = 2;
  list[1].host_name = "web-02";
  list[1].agent_version = "12.0.0.1234";
  list[1].addresses = {*IpAddress::parse("10.0.0.2"), *IpAddress::parse("10.0.0.9")};
  const auto fetched = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  InventoryPage page;
  page.url = "https://dsm.example:4119/api";
  page.status.refreshes = 3;
  page.status.failures["rate_limited"] = 1;
  page.status.last_good = fetched;
  page.inventory = inventory::Inventory::build(list, {});
  page.now = fetched + std::chrono::seconds(42);
  return page;
}

}  // namespace

TEST_CASE("metrics: the inventory's refreshes and the map in use", "[control][metrics]") {
  RunningPolicy policy;
  MetricsPage page = sample_page(policy);
  CHECK(render(page).find("chokepoint_inventory") == std::string::npos);  // none configured
  page.inventory = inventory_page();
  std::string text = render(page);
  CHECK(text.find("\nchokepoint_inventory_refreshes_total 3\n") != std::string::npos);
  CHECK(text.find("\nchokepoint_inventory_refresh_failures_total{error=\"rate_limited\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("\nchokepoint_inventory_refresh_failures_total{error=\"refused\"} 0\n") !=
        std::string::npos);
  CHECK(text.find("\nchokepoint_inventory_applies 1\n") != std::string::npos);
  CHECK(text.find("\nchokepoint_inventory_computers 2\n") != std::string::npos);
  CHECK(text.find("\nchokepoint_inventory_addresses 2\n") != std::string::npos);
  CHECK(text.find("\nchokepoint_inventory_ambiguous_addresses 1\n") != std::string::npos);
  CHECK(text.find("\nchokepoint_inventory_age_seconds 42\n") != std::string::npos);
  // Stale: it no longer applies, and says nothing of a map.
  page.inventory->inventory.reset();
  text = render(page);
  CHECK(text.find("\nchokepoint_inventory_applies 0\n") != std::string::npos);
  CHECK(text.find("chokepoint_inventory_computers") == std::string::npos);
}

TEST_CASE("metrics text is byte for byte the exposition clients parse", "[control][metrics]") {
  RunningPolicy policy;
  const MetricsPage page = sample_page(policy);
  // The expected text was written from the exposition before the families
  // became a table; a change here breaks dashboards.
  const std::string expected =
      read(std::string(CHOKEPOINT_SOURCE_DIR) + "/tests/unit/control/testdata/metrics.txt");
  REQUIRE_FALSE(expected.empty());
  CHECK(render(page) == expected);
}

TEST_CASE("metrics: no budget, no budget family; draining reads 0", "[control][metrics]") {
  RunningPolicy policy;
  MetricsPage page = sample_page(policy);
  page.buffer_limit = 0;
  page.ready = false;
  const std::string text = render(page);
  CHECK(text.find("chokepoint_buffer_limit_bytes") == std::string::npos);
  CHECK(text.find("\nchokepoint_ready 0\n") != std::string::npos);
}

TEST_CASE("every metric family is in the README, and written once", "[control][metrics]") {
  const std::string readme = read(std::string(CHOKEPOINT_SOURCE_DIR) + "/README.md");
  RunningPolicy policy;
  MetricsPage page = sample_page(policy);
  page.inventory = inventory_page();
  page.probe.emplace();
  page.probe->enabled = true;
  page.probe->view.last_probe = std::chrono::system_clock::time_point(std::chrono::seconds(1));
  const std::string text = render(page);
  for (const FamilyInfo& family : kFamilies) {
    INFO(family.name);
    CHECK(readme.find("`" + std::string(family.name)) != std::string::npos);
    const std::string help = "# HELP " + std::string(family.name) + " ";
    const auto at = text.find(help);
    CHECK(at != std::string::npos);
    CHECK(text.find(help, at + 1) == std::string::npos);
  }
}
