// Test helpers: build a snapshot from YAML text and ask it questions.
#pragma once

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <chokepoint/policy/loader.hpp>
#include <chokepoint/policy/snapshot.hpp>

namespace chokepoint::test {

inline std::shared_ptr<const policy::Snapshot> snapshot_from(
    const std::string& yaml, const std::string& name = "test.yaml") {
  auto loaded = policy::load_config_text(yaml, name);
  if (!loaded) {
    for (const auto& d : loaded.diagnostics())
      UNSCOPED_INFO(d.to_string());
  }
  REQUIRE(loaded.ok());
  auto built = policy::Snapshot::build(std::move(loaded).value().policy);
  REQUIRE(built.ok());
  return built.value();
}

inline Host host_of(const std::string& text) {
  Host host;
  REQUIRE(normalize_host(text, host) == HostError::None);
  return host;
}

// role "" means the default role; version "" means unknown.
inline policy::ClientIdentity identity(const policy::Snapshot& s, const std::string& role,
                                       const std::string& version = "") {
  const int index = role.empty() ? s.policy().default_role : s.policy().find_role(role);
  if (!role.empty() && role != "any") REQUIRE(index >= 0);
  std::optional<Version> v;
  if (!version.empty()) v = Version::parse(version);
  return s.identity_for(index, v);
}

// Every diagnostic as `file:line:col: message`, one a line, for INFO and
// substring checks.
inline std::string all_lines(const Diagnostics& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics)
    out += d.to_string() + "\n";
  return out;
}

// "agent relay" -> {"agent", "relay"}: table rows list roles and ports so.
inline std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

}  // namespace chokepoint::test
