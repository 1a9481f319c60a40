// The Deep Security Manager's computer list, as its REST API (v1) gives it
// (DESIGN.md, "Clients from the manager"): the pages of a paged search,
// `POST /api/computers/search` answering {"computers": [Computer, ...]},
// read into plain values. Only what identifies a client is kept: the ID,
// the names, the agent version, the relay flag, and every address the
// computer uses (`lastIPUsed`, each interface's `IPs`, the cloud summaries'
// private addresses).
//
// Untrusted bytes (a manager, or whatever answers at its address): the page
// is bounded (max_computers, and the caller bounds the body), every field is
// checked for its type, and anything unexpected is a refusal of the whole
// page with the reason, never a partial page: a refresh keeps the last good
// inventory rather than take half of a new one. Pure (simdjson, no I/O).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <chokepoint/core/ip.hpp>

namespace chokepoint::inventory {

struct Computer {
  std::uint64_t id = 0;
  std::string host_name;     // hostName
  std::string display_name;  // displayName ("" when unset)
  // agentVersion as the manager writes it ("20.0.1.690"); "0.0.0.0": no agent.
  std::string agent_version;
  // computerSettings.platformSettingRelayState, when the page carries it:
  // the manager's word on whether the computer is a relay.
  std::optional<bool> relay_state;
  std::vector<IpAddress> addresses;  // in the order found, each once

  // The name records show: the display name where one is set.
  const std::string& name() const { return display_name.empty() ? host_name : display_name; }
  bool has_agent() const { return !agent_version.empty() && agent_version != "0.0.0.0"; }
  bool operator==(const Computer&) const = default;
};

// The computers of a refresh, page after page, in slots kept from the
// refresh before: a computer equal to the one in its slot last time is left
// as it is (no copy, no allocation), so reading a list as it was costs no
// memory traffic, and knows it is as it was without a digest of it.
class ComputerList {
 public:
  // A new refresh: what is added next goes to the first slot.
  void restart();
  void add(const Computer& computer);
  // Every page was read: the list is whole.
  void finish();

  std::span<const Computer> computers() const { return {slots_.data(), size_}; }
  std::size_t size() const { return size_; }
  // A whole list, and the one the whole refresh before it read (false when
  // the one before failed part of the way: its slots are a mixture).
  bool same_as_last() const;

 private:
  std::vector<Computer> slots_;
  std::size_t size_ = 0;
  bool whole_ = false;
  std::size_t last_size_ = 0;
  bool last_whole_ = false;
  bool differs_ = false;  // from the last list, since restart()
};

struct PageRead {
  std::size_t computers = 0;
  std::uint64_t highest_id = 0;  // the next page's cursor (IDs above it)
};

struct PageLimits {
  std::size_t max_computers = 5000;   // the page size asked for: more is refused
  std::size_t max_addresses = 64;     // per computer; past it, the rest are ignored
  std::size_t max_name_bytes = 1024;  // hostName, displayName
};

// How many bytes of readable memory must follow a page (simdjson's padding).
inline constexpr std::size_t kPagePadding = 64;

// Reads the pages of one refresh, one after another, with the same parser:
// its buffers are a few times a page's size, and taking fresh ones for
// every page of megabytes cost more in page faults than the parsing did.
class PageReader {
 public:
  PageReader();
  ~PageReader();
  PageReader(const PageReader&) = delete;
  PageReader& operator=(const PageReader&) = delete;

  // One page onto the end of `into`; or (error set) nothing usable, and
  // `into` may hold part of the page (the refresh has failed). `json` must
  // be followed by kPagePadding bytes of readable memory.
  std::optional<PageRead> read(std::string_view json, const PageLimits& limits, ComputerList& into,
                               std::string& error);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// One entry of an interface's `IPs` ("10.0.1.23", "10.0.1.23/24",
// "fe80::1/64"): the address, or nothing. The prefix form is accepted
// because Trend does not document which one a manager sends.
std::optional<IpAddress> interface_address(std::string_view text);

}  // namespace chokepoint::inventory
