// The settings table: every setting from the file and from its flag, the
// checks, a flag over the file, the help and the README's table.
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include <chokepoint/config/config_file.hpp>
#include <chokepoint/config/flags.hpp>

using namespace chokepoint;
using namespace chokepoint::config;

namespace {

// A valid value of each kind, as an operator writes it.
template <class Kind>
std::string sample();
template <>
std::string sample<EndpointList>() {
  return "127.0.0.1:3999";
}
template <>
std::string sample<OptionalEndpoint>() {
  return "127.0.0.1:9999";
}
template <>
std::string sample<SyslogList>() {
  return "udp://127.0.0.1:5514/cef";
}
template <>
std::string sample<ConnectToList>() {
  return "a.example:443:127.0.0.1:8443";
}
template <>
std::string sample<CidrList>() {
  return "10.0.0.0/8";
}
template <>
std::string sample<UpstreamProxyUrl>() {
  return "http://svc:pw@proxy.corp.example:3128";
}
template <>
std::string sample<Port>() {
  return "8443";
}
template <>
std::string sample<Text>() {
  return "some-text";
}
template <>
std::string sample<Number<std::size_t>>() {
  return "3";
}
template <>
std::string sample<Duration>() {
  return "1m";
}
template <>
std::string sample<DnsServerList>() {
  return "127.0.0.53";
}
template <>
std::string sample<Rate>() {
  return "20/s";
}
template <>
std::string sample<Switch>() {
  return "true";
}
template <>
std::string sample<RelayMode>() {
  return "copy";
}
template <>
std::string sample<AuditOnFailure>() {
  return "refuse";
}

// Within the row's range, when it has one.
template <class Kind>
std::string sample_for(const NoCheck&) {
  return sample<Kind>();
}
template <class Kind, class Check>
std::string sample_for(const Check&) {
  return sample<Kind>();
}
template <class Kind>
std::string sample_for(const Range& range) {
  return std::to_string(range.max);
}

// `key: value` under settings:, nesting a dotted key.
std::string settings_yaml(std::string_view key, const std::string& value) {
  std::string yaml = "version: 1\nsettings:\n";
  const auto dot = key.find('.');
  if (dot == std::string_view::npos) return yaml + "  " + std::string(key) + ": " + value + "\n";
  return yaml + "  " + std::string(key.substr(0, dot)) + ":\n    " +
         std::string(key.substr(dot + 1)) + ": " + value + "\n";
}

std::string all(const Diagnostics& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics)
    out += d.to_string() + "\n";
  return out;
}

RunFlags flags_of(std::vector<std::string> args) {
  RunFlags flags;
  const Reading reading = run_command_line().parse(args, flags);
  INFO(reading.error);
  REQUIRE(reading.error.empty());
  return flags;
}

std::string flag_error(std::vector<std::string> args) {
  RunFlags flags;
  const Reading reading = run_command_line().parse(args, flags);
  CHECK_FALSE(reading.error.empty());
  return reading.error;
}

bool asks_for_help(std::vector<std::string> args) {
  RunFlags flags;
  const Reading reading = run_command_line().parse(args, flags);
  CHECK(reading.error.empty());
  return reading.help;
}

template <class T>
bool same(const T& a, const T& b) {
  return a == b;
}
bool same(const Endpoint& a, const Endpoint& b) {
  return a.to_string() == b.to_string();
}
bool same(const std::optional<Endpoint>& a, const std::optional<Endpoint>& b) {
  return a.has_value() == b.has_value() && (!a || same(*a, *b));
}
// What a source said, against the sample's value (one item, for a list).
template <class Kind, class Expected>
void check_value(const typename Kind::Value& got, const Expected& expected) {
  if constexpr (Kind::kList) {
    CHECK(got.size() == 1);  // items are checked by their own parsers' tests
  } else {
    CHECK(same(got, expected));
  }
}

}  // namespace

TEST_CASE("every setting reads from the file and from its flag", "[config][settings]"){
#define CHECK_SETTING(field, Kind, yaml, flag, fallback, check, ...)                   \
  {                                                                                    \
    INFO(#field);                                                                      \
    const std::string text = sample_for<Kind>(check);                                  \
    std::string error;                                                                 \
    const auto expected = Kind::parse(text, "test", error);                            \
    REQUIRE(expected);                                                                 \
    const auto loaded = load_config_text(settings_yaml(yaml, text), "test.yaml");      \
    INFO(all(loaded.diagnostics()));                                                   \
    REQUIRE(loaded.ok());                                                              \
    REQUIRE(loaded.value().settings.field);                                            \
    const RunFlags flags = Kind::kSwitch ? flags_of({flag}) : flags_of({flag, text});  \
    REQUIRE(flags.settings.field);                                                     \
    const RunFlags joined =                                                            \
        Kind::kSwitch ? flags_of({flag}) : flags_of({std::string(flag) + "=" + text}); \
    REQUIRE(joined.settings.field);                                                    \
    check_value<Kind>(*loaded.value().settings.field, *expected);                      \
    check_value<Kind>(*flags.settings.field, *expected);                               \
    check_value<Kind>(*joined.settings.field, *expected);                              \
    const Settings from_file = resolve(loaded.value().settings, {});                   \
    CHECK(from_file.given(SettingId::field));                                          \
    CHECK_FALSE(resolve({}, {}).given(SettingId::field));                              \
  }
    CHOKEPOINT_SETTINGS(CHECK_SETTING)
#undef CHECK_SETTING
}

TEST_CASE("every default parses and passes its check", "[config][settings]") {
#define CHECK_DEFAULT(field, Kind, yaml, flag, fallback, check, ...) \
  if (std::string_view(fallback).size() > 0) {                       \
    INFO(#field << " default " << fallback);                         \
    std::string error;                                               \
    const auto value = Kind::parse(fallback, #field, error);         \
    CHECK(error.empty());                                            \
    REQUIRE(value);                                                  \
    CHECK(check(*value, #field, error));                             \
  }
  CHOKEPOINT_SETTINGS(CHECK_DEFAULT)
#undef CHECK_DEFAULT
  const Settings s;
  CHECK(s.head_timeout == std::chrono::seconds(10));
  CHECK(s.idle_timeout == std::chrono::minutes(15));
  CHECK(s.drain_timeout == std::chrono::seconds(30));
  CHECK(s.peek_bytes == 16384);
  // Unset: run derives it from the descriptor limit (proxy/descriptor_budget.hpp).
  CHECK(s.max_connections == 0);
  CHECK(s.max_pending_heads_per_client == 256);
  CHECK(s.half_close_timeout == std::chrono::seconds(60));
  CHECK(s.max_rate_per_client == 0);
  CHECK(s.max_pending_heads == 4096);
  CHECK(s.sni_port == 443);
  CHECK(s.audit_log == "-");
  CHECK(s.auth_realm == "chokepoint");
  CHECK_FALSE(s.force_copy);
  CHECK_FALSE(s.admin_public);
  REQUIRE(s.admin);
  CHECK(s.admin->to_string() == "127.0.0.1:9090");
  REQUIRE(s.listen.size() == 1);
  CHECK(s.listen[0].to_string() == "127.0.0.1:3128");
}

TEST_CASE("range and value errors, from the file and from the flags", "[config][settings]") {
  struct Case {
    std::string yaml;
    std::string where;
    std::string message;
  };
  const Case cases[] = {
      {"version: 1\nsettings:\n  threads: 0\n", "test.yaml:3:12: ", "threads must be 1 to 256"},
      {"version: 1\nsettings:\n  threads: 257\n", "test.yaml:3:12: ", "threads must be 1 to 256"},
      {"version: 1\nsettings:\n  limits: {peek_bytes: 1023}\n",
       "test.yaml:3:24: ", "peek_bytes must be 1024 to 65536"},
      {"version: 1\nsettings:\n  relay: fast\n",
       "test.yaml:3:10: ", "relay must be auto or copy, not 'fast'"},
      {"version: 1\nsettings:\n  audit_log: ''\n",
       "test.yaml:3:14: ", "audit_log must be a path, '-' or 'none'"},
      {"version: 1\nsettings:\n  auth_realm: 'a\"b'\n",
       "test.yaml:3:15: ", "auth_realm may not contain '\"'"},
      {"version: 1\nsettings:\n  timeouts: {idle: soon}\n",
       "test.yaml:3:20: ", "idle must be a positive duration"},
      {"version: 1\nsettings:\n  listen: [127.0.0.1:1, nope]\n", "test.yaml:3:25: ", "listen: "},
      {"version: 1\nsettings:\n  admin_public: maybe\n",
       "test.yaml:3:17: ", "admin_public must be true or false"},
      {"version: 1\nsettings:\n  limits: {max_files: 1}\n",
       "test.yaml:3:12: ", "unknown key 'max_files' in limits"},
      {"version: 1\nsettings:\n  proxy_protocol: {from: [10.0.0.0/33]}\n",
       "test.yaml:3:27: ", "from: bad prefix length '33'"},
      {"version: 1\nsettings:\n  upstream_proxy: ftp://x:1\n",
       "test.yaml:3:19: ", "upstream_proxy: unknown scheme 'ftp'"},
      {"version: 1\nsettings:\n  listening: []\n",
       "test.yaml:3:3: ", "unknown key 'listening' in settings"},
  };
  for (const auto& c : cases) {
    INFO(c.yaml);
    const auto loaded = load_config_text(c.yaml, "test.yaml");
    REQUIRE_FALSE(loaded.ok());
    const std::string diagnostics = all(loaded.diagnostics());
    INFO(diagnostics);
    CHECK(diagnostics.find(c.where + c.message) != std::string::npos);
  }
  CHECK(flag_error({"--threads", "0"}) == "--threads must be 1 to 256");
  CHECK(flag_error({"--threads=300"}) == "--threads must be 1 to 256");
  CHECK(flag_error({"--threads", "x"}) == "--threads: expected a whole number, not 'x'");
  CHECK(flag_error({"--peek-bytes", "100"}) == "--peek-bytes must be 1024 to 65536");
  CHECK(flag_error({"--idle-timeout", "soon"}) == "--idle-timeout: bad duration 'soon'");
  CHECK(flag_error({"--sni-port", "0"}) == "--sni-port: bad port '0'");
  CHECK(flag_error({"--relay", "fast"}) == "--relay must be auto or copy, not 'fast'");
  CHECK(flag_error({"--audit-on-failure", "maybe"}) ==
        "--audit-on-failure must be continue or refuse, not 'maybe'");
  CHECK(flag_error({"--listen"}) == "--listen needs a value");
  CHECK(flag_error({"--listen", "nope"}).rfind("--listen: ", 0) == 0);
  CHECK(flag_error({"--frobnicate"}) == "unexpected argument '--frobnicate'");
  CHECK(flag_error({"--proxy-protocol-from", "10.0.0.1/8"}) ==
        "--proxy-protocol-from: host bits are set below the prefix; write 10.0.0.0/8");
  CHECK(flag_error({"--upstream-proxy", "http://proxy.corp"})
            .rfind("--upstream-proxy: the parent proxy's port is missing", 0) == 0);
}

TEST_CASE("a flag wins over the file, setting by setting", "[config][settings]") {
  const auto loaded = load_config_text(
      "version: 1\nsettings:\n  threads: 4\n  listen: [127.0.0.1:1000, 127.0.0.1:1001]\n"
      "  timeouts: {idle: 1m, connect: 3s}\n  admin: none\n",
      "test.yaml");
  INFO(all(loaded.diagnostics()));
  REQUIRE(loaded.ok());
  const RunFlags flags = flags_of({"--threads", "8", "--listen", "127.0.0.1:2000",
                                   "--connect-timeout=7s", "--listen=127.0.0.1:2001"});
  const Settings s = resolve(loaded.value().settings, flags.settings);
  CHECK(s.threads == 8);
  REQUIRE(s.listen.size() == 2);  // the flags' list replaces the file's
  CHECK(s.listen[0].to_string() == "127.0.0.1:2000");
  CHECK(s.listen[1].to_string() == "127.0.0.1:2001");
  CHECK(s.connect_timeout == std::chrono::seconds(7));
  CHECK(s.idle_timeout == std::chrono::minutes(1));  // only the file said it
  CHECK_FALSE(s.admin);                              // `admin: none` from the file
  CHECK(s.given(SettingId::admin));
  CHECK(s.dns_timeout == std::chrono::seconds(5));  // nobody said it
  CHECK_FALSE(s.given(SettingId::dns_timeout));

  const Settings back_on =
      resolve(loaded.value().settings, flags_of({"--admin", "127.0.0.1:0"}).settings);
  REQUIRE(back_on.admin);
  CHECK(back_on.admin->port == 0);
}

TEST_CASE("a later file's settings replace an included file's", "[config][settings]") {
  const auto loaded = load_config_text(
      "version: 1\ninclude: [builtin:deep-security.yaml]\nsettings:\n  threads: 2\n", "site.yaml");
  REQUIRE(loaded.ok());
  CHECK(loaded.value().settings.threads == 2);
}

TEST_CASE("settings between one another", "[config][settings]") {
  // A listener of another kind replaces the default explicit one.
  const Settings sni = resolve({}, flags_of({"--sni-listen", "127.0.0.1:4443"}).settings);
  CHECK(sni.listen.empty());
  const Settings both = resolve(
      {}, flags_of({"--sni-listen", "127.0.0.1:4443", "--listen", "127.0.0.1:3128"}).settings);
  CHECK(both.listen.size() == 1);
  // No thread count: one per core.
  CHECK(resolve({}, {}).threads >= 1);
}

TEST_CASE("run --help names every setting, its flag and its key", "[config][settings]") {
  const std::string help = help_text(run_command_line().info());
  const std::string usage = config::usage(run_command_line().info());
  for (const SettingInfo& s : kSettingInfo) {
    INFO(s.field);
    CHECK(help.find(std::string(s.flag) + " ") != std::string::npos);
    CHECK(help.find("settings: " + std::string(s.yaml_key)) != std::string::npos);
    CHECK(usage.find(std::string(s.flag)) != std::string::npos);
  }
  CHECK(asks_for_help({"--help"}));
  CHECK(asks_for_help({"-h"}));
}

// README.md's option table is generated from the settings table. To update
// it after changing the table:
//   CHOKEPOINT_WRITE_README=1 build/tests/unit_tests "[readme]"
TEST_CASE("README.md's option table is the settings table", "[config][settings][readme]") {
  const std::string path = std::string(CHOKEPOINT_SOURCE_DIR) + "/README.md";
  std::ifstream in(path);
  REQUIRE(in);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string readme = buffer.str();
  const std::string begin =
      "<!-- run options: generated from include/chokepoint/config/settings_table.hpp -->\n";
  const std::string end = "<!-- end of run options -->\n";
  const auto from = readme.find(begin);
  const auto to = readme.find(end);
  REQUIRE(from != std::string::npos);
  REQUIRE(to != std::string::npos);
  const std::string table = readme.substr(from + begin.size(), to - from - begin.size());
  const std::string expected = markdown_table();
  if (table != expected && std::getenv("CHOKEPOINT_WRITE_README")) {
    readme.replace(from + begin.size(), to - from - begin.size(), expected);
    std::ofstream(path) << readme;
    return;
  }
  INFO("update README.md: CHOKEPOINT_WRITE_README=1 build/tests/unit_tests \"[readme]\"");
  CHECK(table == expected);
}

TEST_CASE("rates are written per second or per minute", "[config]") {
  std::string error;
  CHECK(Rate::parse("10/s", "r", error) == 10.0);
  CHECK(Rate::parse("600/m", "r", error) == 10.0);
  CHECK(Rate::parse("5", "r", error) == 5.0);
  CHECK(Rate::parse("0", "r", error) == 0.0);
  for (const char* bad : {"", "/s", "10/h", "ten/s", "-1/s", "1.5/s"}) {
    INFO(bad);
    error.clear();
    CHECK_FALSE(Rate::parse(bad, "--max-rate-per-client", error));
    CHECK(error.find("--max-rate-per-client") != std::string::npos);
  }
}
