#include <simdjson.h>

#include <chokepoint/inventory/computers.hpp>

namespace chokepoint::inventory {
namespace {

namespace od = simdjson::ondemand;

static_assert(kPagePadding >= simdjson::SIMDJSON_PADDING);

// The cloud summaries whose private address is one of the computer's own.
constexpr std::string_view kCloudSummaries[] = {
    "ec2VirtualMachineSummary", "azureARMVirtualMachineSummary", "azureVMVirtualMachineSummary",
    "gcpVirtualMachineSummary"};

// Errors are values here: every simdjson call's error is looked at (the
// page is untrusted, and a thrown simdjson_error would be a crash).

// True for null; anything else (errors included) is for the next reader.
bool is_null(od::value& value) {
  bool null = false;
  return !value.is_null().get(null) && null;
}

// A page that is not what the API documents: the reason, once.
struct Refusal {
  std::string& error;
  bool fail(std::string message) {
    if (error.empty()) error = std::move(message);
    return false;
  }
};

// A string field that may be null (the manager writes null for "not set").
bool optional_string(od::value& value, std::string& out, std::size_t max_bytes, Refusal& refusal,
                     std::string_view what) {
  if (is_null(value)) return true;
  std::string_view text;
  if (value.get_string().get(text)) return refusal.fail(std::string(what) + " is not a string");
  if (text.size() > max_bytes) return refusal.fail(std::string(what) + " is too long");
  out.assign(text);
  return true;
}

void add_address(Computer& computer, const IpAddress& address, const PageLimits& limits) {
  const IpAddress a = address.unmapped();
  if (computer.addresses.size() >= limits.max_addresses) return;
  for (const IpAddress& known : computer.addresses) {
    if (known == a) return;
  }
  computer.addresses.push_back(a);
}

// An address field: a string that may be null or empty, or an address
// (anything else is not an address the client could come from).
bool address_field(od::value& value, Computer& computer, const PageLimits& limits, Refusal& refusal,
                   std::string_view what) {
  std::string text;
  if (!optional_string(value, text, 64, refusal, what)) return false;
  if (const auto address = interface_address(text)) add_address(computer, *address, limits);
  return true;
}

// Iterates the fields of `object`: `visit(key, value)` for each, false
// (refused) at the first broken one or when `visit` says so.
template <class Visit>
bool each_field(od::object& object, Refusal& refusal, std::string_view what, Visit visit) {
  for (auto item : object) {
    od::field field;
    std::string_view key;
    if (std::move(item).get(field) || field.unescaped_key().get(key))
      return refusal.fail("broken JSON in " + std::string(what));
    if (!visit(key, field.value())) return false;
  }
  return true;
}

// Iterates the elements of `array`, as each_field does its fields.
template <class Visit>
bool each_element(od::array& array, Refusal& refusal, std::string_view what, Visit visit) {
  for (auto item : array) {
    od::value value;
    if (std::move(item).get(value)) return refusal.fail("broken JSON in " + std::string(what));
    if (!visit(value)) return false;
  }
  return true;
}

bool read_interfaces(od::value& value, Computer& computer, const PageLimits& limits,
                     Refusal& refusal) {
  if (is_null(value)) return true;
  od::object wrapper;
  if (value.get_object().get(wrapper)) return refusal.fail("interfaces is not an object");
  return each_field(
      wrapper, refusal, "interfaces", [&](std::string_view key, od::value& list_value) {
        if (key != "interfaces" || is_null(list_value)) return true;
        od::array list;
        if (list_value.get_array().get(list))
          return refusal.fail("interfaces.interfaces is not a list");
        return each_element(list, refusal, "interfaces", [&](od::value& item) {
          od::object interface;
          if (item.get_object().get(interface))
            return refusal.fail("an interface is not an object");
          return each_field(
              interface, refusal, "an interface", [&](std::string_view name, od::value& ips_value) {
                if (name != "IPs" || is_null(ips_value)) return true;
                od::array ips;
                if (ips_value.get_array().get(ips))
                  return refusal.fail("an interface's IPs is not a list");
                return each_element(ips, refusal, "IPs", [&](od::value& ip) {
                  return address_field(ip, computer, limits, refusal, "an interface's IP");
                });
              });
        });
      });
}

bool read_cloud_summary(od::value& value, Computer& computer, const PageLimits& limits,
                        Refusal& refusal) {
  if (is_null(value)) return true;
  od::object summary;
  if (value.get_object().get(summary)) return refusal.fail("a cloud summary is not an object");
  return each_field(summary, refusal, "a cloud summary", [&](std::string_view key, od::value& v) {
    return key != "privateIPAddress" ||
           address_field(v, computer, limits, refusal, "privateIPAddress");
  });
}

bool read_settings(od::value& value, Computer& computer, Refusal& refusal) {
  if (is_null(value)) return true;
  od::object settings;
  if (value.get_object().get(settings)) return refusal.fail("computerSettings is not an object");
  return each_field(settings, refusal, "computerSettings", [&](std::string_view key, od::value& v) {
    if (key != "platformSettingRelayState") return true;
    od::object setting;
    if (v.get_object().get(setting))
      return refusal.fail("platformSettingRelayState is not an object");
    return each_field(setting, refusal, "a setting",
                      [&](std::string_view name, od::value& text_value) {
                        if (name != "value") return true;
                        std::string_view text;
                        if (text_value.get_string().get(text))
                          return refusal.fail("platformSettingRelayState.value is not a string");
                        computer.relay_state = text == "true";
                        return true;
                      });
  });
}

bool read_computer(od::object& object, Computer& computer, const PageLimits& limits,
                   Refusal& refusal) {
  bool has_id = false;
  const bool ok =
      each_field(object, refusal, "a computer", [&](std::string_view key, od::value& value) {
        if (key == "ID") {
          if (value.get_uint64().get(computer.id))
            return refusal.fail("a computer's ID is not a number");
          has_id = true;
          return true;
        }
        if (key == "hostName")
          return optional_string(value, computer.host_name, limits.max_name_bytes, refusal,
                                 "hostName");
        if (key == "displayName")
          return optional_string(value, computer.display_name, limits.max_name_bytes, refusal,
                                 "displayName");
        if (key == "agentVersion")
          return optional_string(value, computer.agent_version, 64, refusal, "agentVersion");
        if (key == "lastIPUsed")
          return address_field(value, computer, limits, refusal, "lastIPUsed");
        if (key == "interfaces") return read_interfaces(value, computer, limits, refusal);
        if (key == "computerSettings") return read_settings(value, computer, refusal);
        for (std::string_view summary : kCloudSummaries) {
          if (key == summary) return read_cloud_summary(value, computer, limits, refusal);
        }
        return true;  // a field no client identity needs
      });
  if (!ok) return false;
  if (!has_id) return refusal.fail("a computer without an ID");
  return true;
}

// A slot to read the next computer into: empty, its strings' memory kept.
void clear(Computer& computer) {
  computer.id = 0;
  computer.host_name.clear();
  computer.display_name.clear();
  computer.agent_version.clear();
  computer.relay_state.reset();
  computer.addresses.clear();
}

}  // namespace

void ComputerList::restart() {
  last_whole_ = whole_;
  last_size_ = size_;
  size_ = 0;
  whole_ = false;
  differs_ = false;
}

void ComputerList::add(const Computer& computer) {
  if (size_ == slots_.size()) {
    slots_.push_back(computer);
    differs_ = true;
  } else if (Computer& slot = slots_[size_]; slot != computer) {
    slot = computer;  // into the slot's own strings and addresses
    differs_ = true;
  }
  ++size_;
}

void ComputerList::finish() {
  whole_ = true;
  // Computers the manager no longer lists hold no memory.
  slots_.erase(slots_.begin() + static_cast<std::ptrdiff_t>(size_), slots_.end());
}

bool ComputerList::same_as_last() const {
  return whole_ && last_whole_ && !differs_ && size_ == last_size_;
}

std::optional<IpAddress> interface_address(std::string_view text) {
  const auto slash = text.find('/');
  if (slash != std::string_view::npos) {
    // A prefix length after the address, as `ip address` writes it.
    const std::string_view prefix = text.substr(slash + 1);
    if (prefix.empty() || prefix.size() > 3 ||
        prefix.find_first_not_of("0123456789") != std::string_view::npos)
      return std::nullopt;
    text = text.substr(0, slash);
  }
  return IpAddress::parse(text);
}

struct PageReader::State {
  od::parser parser;
  Computer next;  // read here, then into the list's slot
};

PageReader::PageReader() : state_(std::make_unique<State>()) {}
PageReader::~PageReader() = default;

std::optional<PageRead> PageReader::read(std::string_view json, const PageLimits& limits,
                                         ComputerList& into, std::string& error) {
  error.clear();
  Refusal refusal{error};
  od::parser& parser = state_->parser;
  od::document document;
  if (parser.iterate(json.data(), json.size(), json.size() + kPagePadding).get(document)) {
    refusal.fail("not JSON");
    return std::nullopt;
  }
  od::object root;
  if (document.get_object().get(root)) {
    refusal.fail("the answer is not a JSON object");
    return std::nullopt;
  }
  PageRead page;
  bool has_list = false;
  const bool ok =
      each_field(root, refusal, "the answer", [&](std::string_view key, od::value& value) {
        if (key == "message") {
          // The manager's own error answers carry one ("Too many API requests.").
          std::string_view message;
          if (!value.get_string().get(message))
            return refusal.fail("the manager said: " + std::string(message.substr(0, 200)));
          return true;
        }
        if (key != "computers") return true;
        od::array list;
        if (value.get_array().get(list)) return refusal.fail("computers is not a list");
        has_list = true;
        return each_element(list, refusal, "computers", [&](od::value& item) {
          if (page.computers >= limits.max_computers)
            return refusal.fail("more than " + std::to_string(limits.max_computers) +
                                " computers in one page");
          od::object object;
          if (item.get_object().get(object)) return refusal.fail("a computer is not an object");
          Computer& computer = state_->next;
          clear(computer);
          if (!read_computer(object, computer, limits, refusal)) return false;
          into.add(computer);
          ++page.computers;
          page.highest_id = std::max(page.highest_id, computer.id);
          return true;
        });
      });
  if (!ok) return std::nullopt;
  if (!has_list) {
    refusal.fail("no computers list in the answer");
    return std::nullopt;
  }
  return page;
}

}  // namespace chokepoint::inventory
