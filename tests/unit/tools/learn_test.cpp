// learn's choices on records made by hand: the role and version traffic
// implies, mappings the configuration already has, proxy users, blocks,
// an explicit deny it cannot learn past, and its bound.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chokepoint/tools/learn.hpp>

using namespace chokepoint;
using namespace chokepoint::tools;

namespace {

constexpr std::int64_t kStart = 1795996800LL * 1000000;

std::shared_ptr<const policy::Snapshot> config(const std::string& extra = "") {
  auto loaded = policy::load_config_text(
      "version: 1\ninclude: builtin:deep-security.yaml\nmode: audit\n" + extra, "site.yaml");
  for (const auto& d : loaded.diagnostics())
    UNSCOPED_INFO(d.to_string());
  REQUIRE(loaded.ok());
  auto built = policy::Snapshot::build(std::move(loaded).value().policy);
  REQUIRE(built.ok());
  return built.value();
}

AuditRecord seen(std::string_view client, std::string_view host, std::uint16_t port,
                 std::string_view decision = "allow", std::string_view user = "") {
  AuditRecord r;
  r.ts_micros = kStart;
  r.event = audit::Event::Open;
  r.client = client;
  r.user = user;
  r.role = "any";
  r.mode = "connect";
  r.host = host;
  r.port = port;
  r.decision = decision;
  r.enforced = decision != "deny";  // a deny here was let out by audit mode
  return r;
}

LearnResult learn(Learner& learner) {
  LearnResult result = learner.finish();
  for (const auto& p : result.problems)
    UNSCOPED_INFO(p);
  for (const auto& w : result.warnings)
    UNSCOPED_INFO(w);
  UNSCOPED_INFO(result.yaml);
  return result;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("learn: role and version from the traffic, rules for the rest", "[tools][learn]") {
  Learner learner(config(), {});
  // An agent of 20.0: its smart-scan server pins the version.
  learner.add(seen("10.0.8.5:1000", "ds20.icrc.trendmicro.com", 443));
  learner.add(seen("10.0.8.5:1001", "iaus.activeupdate.trendmicro.com", 80));
  learner.add(seen("10.0.8.5:1002", "api.vendor.example", 443, "deny"));
  learner.add(seen("10.0.8.5:1003", "cdn1.assets.vendor.example", 443, "deny"));
  learner.add(seen("10.0.8.5:1004", "cdn2.assets.vendor.example", 443, "deny"));
  // The Manager.
  learner.add(seen("10.0.0.5:1000", "grid-global.trendmicro.com", 443));
  learner.add(seen("10.0.0.5:1001", "sts.amazonaws.com", 443));
  // An enforced refusal is not learned.
  auto refused = seen("10.0.8.5:1005", "exfil.example", 443, "deny");
  refused.event = audit::Event::Deny;
  refused.enforced = true;
  learner.add(refused);
  const LearnResult result = learn(learner);
  REQUIRE(result.ok);
  CHECK(result.warnings.empty());
  const std::string& y = result.yaml;
  CHECK(contains(y, "include: \"builtin:deep-security.yaml\"\nmode: enforce\n"));
  CHECK(contains(y, "- {cidr: \"10.0.8.5/32\", role: agent, version: \"20.0\"}"));
  CHECK(contains(y, "- {cidr: \"10.0.0.5/32\", role: manager}"));
  CHECK(contains(y, "  - id: learned.vendor.example\n"));
  CHECK(contains(y, "    roles: [agent]\n    ports: [443]\n"));
  CHECK(contains(y, "suggestion: '*.assets.vendor.example' would cover the 2 names"));
  CHECK(contains(y, "suggestion: '*.vendor.example' would cover the 3 names"));
  CHECK_FALSE(contains(y, "exfil"));
  CHECK(contains(y, "1 refusals that were enforced are not learned"));
  CHECK(result.clients == 2);
  CHECK(result.rules == 1);
}

TEST_CASE("learn: mappings of the configuration stand; users; blocks", "[tools][learn]") {
  const auto snapshot = config(
      "clients:\n"
      "  - {cidr: 10.0.8.0/21, role: agent, version: \"20.0\"}\n"
      "  - {cidr: 10.0.9.9/32, role: relay}\n"
      "  - {user: automation, role: api-client}\n");
  LearnOptions options;
  options.ipv4_prefix = 24;
  Learner learner(snapshot, options);
  // Agents in the configuration's /21, learned as /24 blocks: same identity, no entry.
  auto agent = seen("10.0.8.7:1", "ds20.icrc.trendmicro.com", 443);
  agent.role = "agent";
  agent.version = "20.0";
  learner.add(agent);
  // 10.0.9.9 is mapped more narrowly than the grouping: it keeps its mapping,
  // and what it reached outside its role's rules becomes a relay rule.
  auto relay = seen("10.0.9.9:1", "mirror.corp.example", 80, "deny");
  relay.role = "relay";
  learner.add(relay);
  // A proxy user mapped by the configuration, and one that is not.
  learner.add(seen("10.0.0.9:1", "management.azure.com", 443, "deny", "automation"));
  learner.add(seen("10.0.0.9:2", "licenseupdate.trendmicro.com", 443, "allow", "nightly"));
  const LearnResult result = learn(learner);
  REQUIRE(result.ok);
  CHECK(result.warnings.empty());
  const std::string& y = result.yaml;
  CHECK_FALSE(contains(y, "cidr: \"10.0.8.0/24\""));
  CHECK_FALSE(contains(y, "10.0.9.9"));
  CHECK_FALSE(contains(y, "user: \"automation\""));
  CHECK(contains(y, "- {user: \"nightly\", role: manager}"));
  CHECK(contains(y,
                 "roles: [relay]\n    ports: [80]\n    destinations:\n      - "
                 "\"mirror.corp.example\""));
  CHECK(contains(y,
                 "roles: [api-client]\n    ports: [443]\n    destinations:\n      - "
                 "\"management.azure.com\""));
}

TEST_CASE("learn: an explicit deny of the configuration is not learned past", "[tools][learn]") {
  // The learned file includes the configuration by path, as `learn --config` writes it.
  char name[] = "/tmp/chokepoint-learn-XXXXXX";
  const int fd = ::mkstemp(name);
  REQUIRE(fd >= 0);
  const std::string text =
      "version: 1\ninclude: builtin:deep-security.yaml\nmode: audit\n"
      "rules:\n  - {id: no-github, action: deny, destinations: [github.com]}\n";
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::fchmod(fd, 0644);
  ::close(fd);
  auto loaded = policy::load_config_file(name);
  REQUIRE(loaded.ok());
  auto built = policy::Snapshot::build(std::move(loaded).value().policy);
  REQUIRE(built.ok());
  LearnOptions options;
  options.include = name;
  Learner learner(built.value(), options);
  learner.add(seen("10.0.8.5:1", "github.com", 443, "deny"));
  const LearnResult result = learn(learner);
  REQUIRE(result.ok);
  REQUIRE(result.warnings.size() == 1);
  CHECK(contains(result.warnings[0], "still refused: github.com:443 for 10.0.8.5/32"));
  CHECK(contains(result.warnings[0], "no-github"));
  ::unlink(name);
}

TEST_CASE("learn: bounded", "[tools][learn]") {
  LearnOptions options;
  options.max_observations = 5;
  Learner learner(config(), options);
  for (int i = 0; i < 6; ++i)
    learner.add(seen("10.0.8.5:1", "h" + std::to_string(i) + ".example", 443, "deny"));
  const LearnResult result = learn(learner);
  CHECK_FALSE(result.ok);
  REQUIRE(result.problems.size() == 1);
  CHECK(contains(result.problems[0], "more than 5 distinct"));
}

TEST_CASE("learn: records it cannot use are skipped, each named by its line", "[tools][learn]") {
  char name[] = "/tmp/chokepoint-learn-XXXXXX";
  const int fd = ::mkstemp(name);
  REQUIRE(fd >= 0);
  const auto line = [](const std::string& client, const std::string& host,
                       const std::string& user = "") {
    return R"({"ts":"2026-12-01T00:00:00Z","event":"open","client":")" + client + R"(","user":)" +
           (user.empty() ? "null" : "\"" + user + "\"") +
           R"(,"role":"any","mode":"connect","host":")" + host +
           R"(","port":443,"decision":"deny","enforced":false})" + "\n";
  };
  const std::string text = line("10.0.8.5:1", "api.vendor.example") +           // line 1: good
                           line("10.0.8.5:2", "API.Vendor.Example") +           // not normalised
                           "\n" +                                               // line 3: empty
                           line("10.0.8.5:3", "a b.example") +                  // not a name
                           line("10.0.8.6:4", "cdn.vendor.example", "ops:x") +  // no such user
                           line("10.0.8.7:5", "cdn.vendor.example");            // good
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fd);
  std::string error;
  auto file = AuditFile::open(name, error);
  REQUIRE(file);
  Learner learner(config(), {});
  learner.add_file(*file);
  const LearnResult result = learn(learner);
  ::unlink(name);
  REQUIRE(result.ok);
  CHECK(contains(result.yaml, "\"api.vendor.example\""));
  CHECK(contains(result.yaml, "\"cdn.vendor.example\""));
  CHECK_FALSE(contains(result.yaml, "API.Vendor"));
  const std::string at = std::string(name) + ":";
  REQUIRE(result.warnings.size() == 3);
  CHECK(contains(result.warnings[0], at + "2: skipped: host \"API.Vendor.Example\""));
  CHECK(contains(result.warnings[1], at + "4: skipped: host \"a b.example\""));
  CHECK(contains(result.warnings[2], at + "5: skipped: user \"ops:x\""));
}

TEST_CASE("learn: a name the catalog writes with a variable suggests the variable's value",
          "[tools][learn][saas]") {
  const auto saas = [](const std::string& region) {
    auto loaded = policy::load_config_text(
        "version: 1\ninclude: builtin:workload-security.yaml\nmode: audit\ndefault_role: agent\n"
        "variables: {workload_security_region: [" +
            region + "]}\n",
        "site.yaml");
    REQUIRE(loaded.ok());
    auto built = policy::Snapshot::build(std::move(loaded).value().policy);
    REQUIRE(built.ok());
    return built.value();
  };
  {
    // No region yet: the names are learned, and the region is suggested.
    Learner learner(saas(""), {});
    learner.add(seen("10.0.8.5:1000", "agents.workload.jp-1.cloudone.trendmicro.com", 443, "deny"));
    learner.add(
        seen("10.0.8.5:1001", "agents-004.workload.jp-1.cloudone.trendmicro.com", 443, "deny"));
    learner.add(seen("10.0.8.5:1002", "api.vendor.example", 443, "deny"));
    const LearnResult result = learn(learner);
    REQUIRE(result.ok);
    CHECK(contains(result.yaml,
                   "      # suggestion: 2 names below would be allowed by rule ws-service with "
                   "variables: {workload_security_region: [jp-1]}; setting that instead"));
    CHECK(contains(result.yaml, "      - \"agents-004.workload.jp-1.cloudone.trendmicro.com\""));
    // Only names the catalog writes so: nothing for the vendor's.
    CHECK(result.yaml.find("suggestion: 1 name") == std::string::npos);
  }
  {
    // Another region than the site's: its values are kept beside the new one,
    // and a port the catalog's rule does not have suggests nothing.
    Learner learner(saas("jp-1"), {});
    learner.add(seen("10.0.8.5:1000", "agents.workload.de-1.cloudone.trendmicro.com", 443, "deny"));
    learner.add(seen("10.0.8.5:1001", "relay.workload.de-1.cloudone.trendmicro.com", 8443, "deny"));
    const LearnResult result = learn(learner);
    REQUIRE(result.ok);
    CHECK(contains(result.yaml,
                   "1 name below would be allowed by rule ws-service with variables: "
                   "{workload_security_region: [de-1, jp-1]}"));
    CHECK(result.yaml.find("suggestion", result.yaml.find("ports: [8443]")) == std::string::npos);
  }
}
