// Who each address is, by the manager's computer list (DESIGN.md, "Clients
// from the manager"): an immutable map from client address to computer,
// built once per refresh and swapped in whole (as a reload swaps a policy),
// so a lookup on the data path is one hash probe on a map nobody changes.
//
// Mapping rules:
//   - every address a computer uses maps to it;
//   - a computer whose agent version is 0.0.0.0 (or missing) has no agent:
//     it maps to nothing;
//   - an address two computers claim is ambiguous: it maps to neither, and
//     is listed, so an operator sees it;
//   - the role is `relay` when the manager says so (platformSettingRelayState)
//     or the computer's name matches one of the operator's relay patterns,
//     else `agent`; the version is the agent's, "20.0.1.690" as the manager
//     writes it (core/version.hpp reads it as 20.0.1-690).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <chokepoint/core/ip.hpp>
#include <chokepoint/core/version.hpp>
#include <chokepoint/inventory/computers.hpp>
#include <chokepoint/policy/pattern.hpp>

namespace chokepoint::inventory {

enum class Role : std::uint8_t { Agent, Relay };
std::string_view to_string(Role role);

// A computer as a client: what the policy and the records need.
struct Client {
  std::uint64_t id = 0;
  std::string name;  // the display name where set, else the host name
  Role role = Role::Agent;
  std::string version_text;        // as the manager writes it
  std::optional<Version> version;  // nothing when the text is not a version
};

struct Ambiguous {
  IpAddress address;
  std::vector<std::uint64_t> computer_ids;  // every computer that claims it
};

class Inventory {
 public:
  // `relay_names`: the operator's patterns for relays' host (or display)
  // names, where the manager cannot say (DESIGN.md: relay_host_names).
  static std::shared_ptr<const Inventory> build(
      std::span<const Computer> computers, const std::vector<policy::HostPattern>& relay_names);

  // The computer behind `address`, or null (unknown, no agent, ambiguous).
  const Client* find(const IpAddress& address) const;

  std::size_t computers() const { return computers_; }     // in the manager's list
  std::size_t clients() const { return clients_.size(); }  // with an agent
  std::size_t relays() const { return relays_; }
  std::size_t addresses() const { return by_address_.size(); }
  const std::vector<Ambiguous>& ambiguous() const { return ambiguous_; }
  // Every mapped address with its client, for listings (`chokepoint
  // inventory`, GET /inventory), in address order.
  std::vector<std::pair<IpAddress, const Client*>> entries() const;

 private:
  struct Hash {
    std::size_t operator()(const IpAddress& a) const;
  };
  std::vector<Client> clients_;
  std::unordered_map<IpAddress, std::size_t, Hash> by_address_;  // index into clients_
  std::vector<Ambiguous> ambiguous_;
  std::size_t computers_ = 0;
  std::size_t relays_ = 0;
};

}  // namespace chokepoint::inventory
