// Variables inside host names (include/chokepoint/policy/interpolation.hpp):
// what each value yields, every refusal with the place it names, and the
// loader's warning about a variable with no value.
#include <chokepoint/policy/interpolation.hpp>

#include "policy_fixture.hpp"

using namespace chokepoint;
using namespace chokepoint::policy;
using chokepoint::test::host_of;
using chokepoint::test::identity;

namespace {

const SourcePos kAt{0, 9, 7};

VariableValue value(const std::string& text, int line = 3) {
  return VariableValue{text, SourcePos{0, line, 12}};
}

const Variables kVariables = {
    {"region", {value("jp-1"), value("us-1", 4)}},
    {"zone", {value("a"), value("b"), value("c")}},
    {"empty", {}},
    {"manager", {value("dsm.corp.example"), value("10.0.0.5")}},
    {"blocks", {value("10.1.0.0/16")}},
    {"upper", {value("JP-1", 5)}},
    {"dotted", {value("jp.1", 6)}},
    {"star", {value("*", 7)}},
    {"blank", {value("", 8)}},
    {"long", {value(std::string(64, 'a'), 9)}},
    {"digits", {value("10"), value("0")}},
    {"twice", {value("x"), value("x")}},
};

std::vector<std::string> texts(const Expansion& e) {
  std::vector<std::string> out;
  for (const auto& t : e.texts)
    out.push_back(t.text);
  return out;
}

std::string errors(const Expansion& e) {
  std::string out;
  for (const auto& error : e.errors)
    out += std::to_string(error.pos.line) + ":" + std::to_string(error.pos.column) + ": " +
           error.message + "\n";
  return out;
}

}  // namespace

TEST_CASE("each value of a variable inside a name yields one destination",
          "[policy][interpolation]") {
  struct Case {
    const char* written;
    std::vector<std::string> expected;
  };
  const Case cases[] = {
      {"agents.workload.${region}.cloudone.trendmicro.com",
       {"agents.workload.jp-1.cloudone.trendmicro.com",
        "agents.workload.us-1.cloudone.trendmicro.com"}},
      {"ec2.${region}.amazonaws.com", {"ec2.jp-1.amazonaws.com", "ec2.us-1.amazonaws.com"}},
      {"workload.${region}.example.com/api",
       {"workload.jp-1.example.com/api", "workload.us-1.example.com/api"}},
      {"${region}.example.com", {"jp-1.example.com", "us-1.example.com"}},
      {"*.${region}.example.com", {"*.jp-1.example.com", "*.us-1.example.com"}},
      {".${region}.example.com", {".jp-1.example.com", ".us-1.example.com"}},
      // Every combination, the first variable varying slowest.
      {"${zone}.${region}.example.com",
       {"a.jp-1.example.com", "a.us-1.example.com", "b.jp-1.example.com", "b.us-1.example.com",
        "c.jp-1.example.com", "c.us-1.example.com"}},
      // One variable twice is one value in both places.
      {"${region}.x.${region}.example.com", {"jp-1.x.jp-1.example.com", "us-1.x.us-1.example.com"}},
      // A variable for the whole destination, as before: names, addresses, blocks, with a path.
      {"${manager}", {"dsm.corp.example", "10.0.0.5"}},
      {"${manager}/api", {"dsm.corp.example/api", "10.0.0.5/api"}},
      {"${blocks}", {"10.1.0.0/16"}},
      // No variable: unchanged; repeated values: once.
      {"files.trendmicro.com", {"files.trendmicro.com"}},
      {"${twice}.example.com", {"x.example.com"}},
  };
  for (const auto& c : cases) {
    INFO(c.written);
    const Expansion e = expand_destination(c.written, kAt, kVariables);
    INFO(errors(e));
    CHECK(e.errors.empty());
    CHECK(texts(e) == c.expected);
    CHECK(e.unset.empty());
  }
}

TEST_CASE("a variable with no value yields no destination, and says so",
          "[policy][interpolation]") {
  Expansion e = expand_destination("agents.${empty}.example.com", kAt, kVariables);
  CHECK(e.errors.empty());
  CHECK(e.texts.empty());
  CHECK(e.inside_name);
  CHECK(e.unset == std::vector<std::string>{"empty"});
  // With another variable that has values: still nothing, since every
  // destination needs a value of each.
  e = expand_destination("${region}.${empty}.example.com", kAt, kVariables);
  CHECK(e.texts.empty());
  CHECK(e.unset == std::vector<std::string>{"empty"});
  // A whole-destination placeholder (the operator's own servers) is unset too,
  // but not inside a name.
  e = expand_destination("${empty}", kAt, kVariables);
  CHECK(e.texts.empty());
  CHECK_FALSE(e.inside_name);
  CHECK(e.unset == std::vector<std::string>{"empty"});
}

TEST_CASE("interpolation refuses what it cannot mean, at the place to fix",
          "[policy][interpolation]") {
  struct Bad {
    const char* name;
    const char* written;
    int line;  // of the error: 9 is the destination, 3.. the value
    const char* message;
  };
  const Bad cases[] = {
      // Values that are not one DNS label, reported where the value is written.
      {"uppercase value", "a.${upper}.example.com", 5, "'JP-1' is not normalised; write 'jp-1'"},
      {"dotted value", "a.${dotted}.example.com", 6, "'jp.1' is more than one label"},
      {"star value", "a.${star}.example.com", 7, "'*' is not a DNS label"},
      {"empty value", "a.${blank}.example.com", 8, "an empty value is not a label"},
      {"long value", "a.${long}.example.com", 9, "longer than 63 characters"},
      {"a block as a label", "a.${blocks}.example.com", 3, "is more than one label"},
      // Variables in addresses and CIDR blocks.
      {"inside an IPv4 address", "10.${digits}.0.1", 9, "inside an address or CIDR block"},
      {"inside a v4 block", "10.${digits}.0.0/16", 9, "inside an address or CIDR block"},
      {"inside an IPv6 address", "2001:db8::${digits}", 9, "inside an address or CIDR block"},
      {"a prefix length after a variable", "${manager}/24", 9, "inside a CIDR block"},
      {"an address from pieces", "${digits}.${digits}.${digits}.${digits}", 9,
       "would spell the address"},
      // Where a variable cannot go.
      {"part of a label", "x${region}.example.com", 9, "may only start a destination"},
      {"part of a label after", "${region}x.example.com", 9, "whole label"},
      {"in a path", "files.example.com/${region}", 9, "cannot be used in a path"},
      {"in a regex", "re:^a\\.${region}\\.example\\.com$", 9, "inside a re: pattern"},
      {"undefined", "a.${nope}.example.com", 9, "undefined variable 'nope'"},
      {"undefined whole", "${nope}", 9, "undefined variable 'nope'"},
      {"unterminated", "a.${region.example.com", 9, "unterminated variable"},
  };
  for (const auto& c : cases) {
    INFO(c.name << ": " << c.written);
    const Expansion e = expand_destination(c.written, kAt, kVariables);
    INFO(errors(e));
    REQUIRE_FALSE(e.errors.empty());
    CHECK(e.texts.empty());
    CHECK(e.errors[0].pos.line == c.line);
    CHECK(e.errors[0].message.find(c.message) != std::string::npos);
  }
}

TEST_CASE("one entry expands to a bounded number of destinations", "[policy][interpolation]") {
  Variables many;
  std::vector<VariableValue> values;
  for (int i = 0; i < 17; ++i)
    values.push_back(value("v" + std::to_string(i)));
  many["a"] = values;
  many["b"] = values;
  many["c"] = values;
  // 17 * 17 = 289 is fine; 17^3 = 4913 is past kMaxExpansions.
  CHECK(expand_destination("${a}.${b}.example.com", kAt, many).texts.size() == 289);
  const Expansion e = expand_destination("${a}.${b}.${c}.example.com", kAt, many);
  CHECK(e.texts.empty());
  REQUIRE(e.errors.size() == 1);
  CHECK(e.errors[0].message.find("more than 4096 destinations") != std::string::npos);
}

TEST_CASE("the loader: interpolated rules decide, problems at file:line:col",
          "[policy][interpolation][loader]") {
  const auto s = test::snapshot_from(R"(version: 1
roles: {agent: {}}
variables:
  region: [jp-1]
rules:
  - id: regional
    roles: [agent]
    ports: [443]
    destinations: ["agents.workload.${region}.cloudone.trendmicro.com"]
)");
  const auto agent = identity(*s, "agent");
  CHECK(s->decide(host_of("agents.workload.jp-1.cloudone.trendmicro.com"), 443, agent).let_out());
  CHECK_FALSE(
      s->decide(host_of("agents.workload.us-1.cloudone.trendmicro.com"), 443, agent).let_out());
  REQUIRE(s->policy().rules[0].destinations.size() == 1);
  CHECK(s->policy().rules[0].destinations[0].written ==
        "agents.workload.${region}.cloudone.trendmicro.com");

  // A bad value in the operator's file is reported once, where it is written,
  // however many destinations use it; nothing is loaded.
  const auto bad = load_config_text(R"(version: 1
variables:
  region: [JP-1]
rules:
  - {id: a, destinations: ["a.${region}.example.com", "b.${region}.example.com"]}
  - {id: b, destinations: ["10.${region}.0.0/16"]}
)",
                                    "site.yaml");
  REQUIRE_FALSE(bad.ok());
  INFO(test::all_lines(bad.diagnostics()));
  REQUIRE(bad.diagnostics().size() == 2);
  CHECK(bad.diagnostics()[0].to_string() ==
        "site.yaml:3:12: variable 'region' stands for one label of a host name, so each value "
        "must be one DNS label: 'JP-1' is not normalised; write 'jp-1'");
  CHECK(bad.diagnostics()[1].to_string().rfind(
            "site.yaml:6:28: a variable cannot be used inside an address or CIDR block", 0) == 0);

  // The expanded name is validated as a whole: a value may not make a
  // wildcard cross a public suffix.
  const auto suffix = load_config_text(R"(version: 1
variables: {tld: [com]}
rules:
  - {id: a, destinations: ["*.${tld}"]}
)",
                                       "site.yaml");
  REQUIRE_FALSE(suffix.ok());
  CHECK(test::all_lines(suffix.diagnostics()).find("site.yaml:4:28: ") != std::string::npos);
  CHECK(test::all_lines(suffix.diagnostics()).find("public suffix 'com'") != std::string::npos);
}

TEST_CASE("an unset variable inside names warns once, where it was last set",
          "[policy][interpolation][loader]") {
  const std::string catalog = R"(version: 1
variables:
  region: []
  servers: []
rules:
  - id: regional
    destinations: ["a.${region}.example.com", "b.${region}.example.com"]
  - id: api
    destinations: ["c.${region}.example.com/api"]
  - id: own
    destinations: ["${servers}"]
)";
  auto result = load_config_text(catalog, "catalog.yaml");
  REQUIRE(result.ok());
  INFO(test::all_lines(result.diagnostics()));
  // The whole-destination placeholder (`servers`) stays quiet, as the
  // on-premises catalog's placeholders always have.
  REQUIRE(result.diagnostics().size() == 1);
  CHECK(result.diagnostics()[0].to_string() ==
        "catalog.yaml:3:3: warning: variable 'region' has no value, so the 3 destinations whose "
        "names use it (rules regional, api) allow nothing until a file sets it: variables: "
        "{region: [VALUE]}");
  CHECK(result.value().policy.rules[0].destinations.empty());

  // Set, it is quiet; a value listed twice is a warning of its own.
  std::string set = catalog;
  set.replace(set.find("region: []"), 10, "region: [jp-1]");
  auto site = load_config_text(set, "catalog.yaml");
  REQUIRE(site.ok());
  CHECK(site.diagnostics().empty());
  site = load_config_text(R"(version: 1
variables:
  region: [jp-1, jp-1]
rules:
  - {id: r, destinations: ["a.${region}.example.com"]}
)",
                          "site.yaml");
  REQUIRE(site.ok());
  INFO(test::all_lines(site.diagnostics()));
  REQUIRE(site.diagnostics().size() == 1);
  CHECK(site.diagnostics()[0].to_string() ==
        "site.yaml:3:18: warning: variable 'region' lists 'jp-1' twice (first at site.yaml:3:12)");
  CHECK(site.value().policy.rules[0].destinations.size() == 1);
}

TEST_CASE("which values a template needs to yield a name", "[policy][interpolation]") {
  using Bound = std::vector<std::pair<std::string, std::string>>;
  const std::string t = "agents.workload.${region}.cloudone.trendmicro.com";
  CHECK(bind_template(t, "agents.workload.jp-1.cloudone.trendmicro.com") ==
        Bound{{"region", "jp-1"}});
  CHECK_FALSE(bind_template(t, "agents.workload.cloudone.trendmicro.com"));
  CHECK_FALSE(bind_template(t, "relay.workload.jp-1.cloudone.trendmicro.com"));
  CHECK_FALSE(bind_template(t, "agents.workload.a.b.cloudone.trendmicro.com"));
  // One variable twice needs one value; "*" stands for any one label.
  CHECK(bind_template("${r}.x.${r}.example.com", "a.x.a.example.com") == Bound{{"r", "a"}});
  CHECK_FALSE(bind_template("${r}.x.${r}.example.com", "a.x.b.example.com"));
  CHECK(bind_template("${a}.*.${b}.example.com", "p.q.r.example.com") ==
        Bound{{"a", "p"}, {"b", "r"}});
  // No variable, or a leading wildcard: nothing to bind.
  CHECK_FALSE(bind_template("files.trendmicro.com", "files.trendmicro.com"));
  CHECK_FALSE(bind_template("*.${r}.example.com", "a.b.example.com"));
}
