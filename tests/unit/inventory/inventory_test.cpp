// Who each address is (include/chokepoint/inventory/inventory.hpp), and the
// precedence the policy gives it (policy/snapshot.hpp: user, inventory,
// clients CIDRs, default role).
#include <catch2/catch.hpp>

#include <chokepoint/inventory/inventory.hpp>
#include <chokepoint/policy/pattern.hpp>

#include "../policy/policy_fixture.hpp"

using namespace chokepoint;
using namespace chokepoint::inventory;

namespace {

Computer computer(std::uint64_t id, std::string name, std::string version,
                  std::vector<const char*> addresses, std::optional<bool> relay = std::nullopt) {
  Computer c;
  c.id = id;
  c.host_name = std::move(name);
  c.agent_version = std::move(version);
  c.relay_state = relay;
  for (const char* a : addresses)
    c.addresses.push_back(*IpAddress::parse(a));
  return c;
}

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

policy::HostPattern pattern(const char* text) {
  std::string error;
  auto p = policy::parse_host_pattern(text, error);
  REQUIRE(p);
  return *p;
}

}  // namespace

TEST_CASE("every address of a computer with an agent maps to it; shared ones to neither",
          "[inventory]") {
  std::vector<Computer> list;
  list.push_back(computer(1, "web-01", "20.0.1.690", {"10.0.0.1", "10.0.1.1"}));
  list.push_back(computer(2, "relay-01", "20.0.0.8453", {"10.0.0.2"}, true));
  list.push_back(computer(3, "nat-a", "12.0.0.1234", {"203.0.113.9", "10.0.0.3"}));
  list.push_back(computer(4, "nat-b", "20.0.1.690", {"203.0.113.9"}));
  list.push_back(computer(5, "unmanaged", "0.0.0.0", {"10.0.0.5"}));
  const auto inventory = Inventory::build(list, {});
  CHECK(inventory->computers() == 5);
  CHECK(inventory->clients() == 4);
  CHECK(inventory->relays() == 1);
  const Client* web = inventory->find(ip("10.0.1.1"));
  REQUIRE(web);
  CHECK(web->id == 1);
  CHECK(web->role == Role::Agent);
  CHECK(web->version == Version::parse("20.0.1-690"));
  CHECK(inventory->find(ip("::ffff:10.0.0.1")) == web);
  REQUIRE(inventory->find(ip("10.0.0.2")));
  CHECK(inventory->find(ip("10.0.0.2"))->role == Role::Relay);
  // Two computers behind one NAT address: neither, and listed.
  CHECK_FALSE(inventory->find(ip("203.0.113.9")));
  REQUIRE(inventory->ambiguous().size() == 1);
  CHECK(inventory->ambiguous()[0].computer_ids == std::vector<std::uint64_t>{3, 4});
  CHECK(inventory->find(ip("10.0.0.3")));
  // No agent: nothing.
  CHECK_FALSE(inventory->find(ip("10.0.0.5")));
  CHECK(inventory->addresses() == 4);
}

TEST_CASE("relays by the operator's names where the manager does not say", "[inventory]") {
  std::vector<Computer> list;
  list.push_back(computer(1, "DSR-07.Relays.corp.example", "20.0.1.690", {"10.0.0.7"}));
  list.push_back(computer(2, "agent-07.corp.example", "20.0.1.690", {"10.0.0.8"}));
  list.push_back(computer(3, "dsr.example", "20.0.1.690", {"10.0.0.9"}, false));
  const auto inventory =
      Inventory::build(list, {pattern("*.relays.corp.example"), pattern("dsr.example")});
  CHECK(inventory->find(ip("10.0.0.7"))->role == Role::Relay);  // names compare case-insensitively
  CHECK(inventory->find(ip("10.0.0.8"))->role == Role::Agent);
  CHECK(inventory->find(ip("10.0.0.9"))->role == Role::Relay);
}

TEST_CASE("precedence: user, inventory, clients CIDRs, default role", "[inventory][policy]") {
  const auto snapshot = test::snapshot_from(
      "version: 1\ndefault_role: agent\n"
      "roles: {agent: {}, relay: {includes: [agent]}, manager: {}}\n"
      "clients:\n  - {cidr: 10.0.0.0/8, role: manager}\n  - {user: ops, role: manager}\n"
      "rules:\n  - {id: r, roles: [agent], destinations: [a.example]}\n");
  const IpAddress address = ip("10.0.0.7");
  const policy::KnownComputer relay{"relay", Version::parse("20.0.1-690")};
  auto identity = snapshot->identify(&address, "ops", &relay);
  CHECK(identity.source == policy::IdentitySource::User);
  identity = snapshot->identify(&address, "", &relay);
  CHECK(identity.source == policy::IdentitySource::Inventory);
  CHECK(snapshot->role_label(identity) == "relay");
  CHECK(identity.version == Version::parse("20.0.1-690"));
  identity = snapshot->identify(&address, "", nullptr);
  CHECK(identity.source == policy::IdentitySource::Cidr);
  CHECK(snapshot->role_label(identity) == "manager");
  const IpAddress outside = ip("192.0.2.1");
  identity = snapshot->identify(&outside, "", nullptr);
  CHECK(identity.source == policy::IdentitySource::Default);
  // A role the policy does not define: the inventory does not decide.
  const policy::KnownComputer unknown{"scanner", std::nullopt};
  CHECK(snapshot->identify(&address, "", &unknown).source == policy::IdentitySource::Cidr);
}
