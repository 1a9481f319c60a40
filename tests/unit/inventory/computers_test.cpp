// One page of the manager's computer list (include/chokepoint/inventory/
// computers.hpp): the documented shapes read, anything else refused whole.
#include <functional>

#include <catch2/catch.hpp>

#include <chokepoint/inventory/computers.hpp>

using namespace chokepoint;
using namespace chokepoint::inventory;

namespace {

struct Page {
  std::vector<Computer> computers;
  std::uint64_t highest_id = 0;
};

// One page read by a reader of its own into a list of its own.
std::optional<Page> parse(std::string json, std::string& error, PageLimits limits = PageLimits{}) {
  const std::size_t size = json.size();
  json.resize(size + kPagePadding);
  PageReader reader;
  ComputerList list;
  const auto read = reader.read(std::string_view(json.data(), size), limits, list, error);
  if (!read) return std::nullopt;
  CHECK(read->computers == list.size());
  return Page{{list.computers().begin(), list.computers().end()}, read->highest_id};
}

// `computers` as one refresh reads them into `list`.
void read_again(ComputerList& list, const std::vector<Computer>& computers, bool whole = true) {
  list.restart();
  for (const Computer& c : computers)
    list.add(c);
  if (whole) list.finish();
}

std::vector<std::string> texts(const std::vector<IpAddress>& addresses) {
  std::vector<std::string> out;
  for (const auto& a : addresses)
    out.push_back(a.to_string());
  return out;
}

// As Trend's SDK models a computer (interfaces inside an object, cloud
// summaries with a private address), and as a manager writes one without
// an agent (no interfaces at all, lastIPUsed "").
const std::string kPage = R"json({"computers": [
  {"hostName": "ip-10-0-1-23.ec2.internal", "displayName": "web-01", "lastIPUsed": "203.0.113.7",
   "agentVersion": "20.0.1.690", "ID": 41, "relayListID": 0,
   "interfaces": {"interfaces": [
     {"name": "eth0", "MAC": "0A:1B:2C:3D:4E:5F", "DHCP": true, "ID": 101,
      "IPs": ["10.0.1.23/24", "fe80::81b:2cff:fe3d:4e5f/64"]},
     {"name": "eth1", "IPs": ["10.0.2.5"]}]},
   "ec2VirtualMachineSummary": {"accountID": "123456789012", "privateIPAddress": "10.0.1.23"},
   "computerSettings": {"platformSettingRelayState": {"value": "true"}}},
  {"hostName": "q2", "displayName": "", "lastIPUsed": "", "platform": "Unknown",
   "agentVersion": "0.0.0.0", "ID": 57,
   "computerStatus": {"agentStatus": "inactive", "agentStatusMessages": ["Unmanaged (Unknown)"]}},
  {"hostName": "db-01", "displayName": null, "lastIPUsed": null, "agentVersion": "12.0.0.1234",
   "ID": 44, "gcpVirtualMachineSummary": {"privateIPAddress": "10.9.0.4"},
   "azureARMVirtualMachineSummary": null,
   "computerSettings": {"platformSettingRelayState": {"value": "false"}}}
]})json";

}  // namespace

TEST_CASE("a page of computers, as the API documents it", "[inventory][page]") {
  std::string error;
  const auto page = parse(kPage, error);
  REQUIRE(page);
  CHECK(error.empty());
  REQUIRE(page->computers.size() == 3);
  CHECK(page->highest_id == 57);
  const Computer& web = page->computers[0];
  CHECK(web.id == 41);
  CHECK(web.name() == "web-01");
  CHECK(web.agent_version == "20.0.1.690");
  CHECK(web.has_agent());
  CHECK(web.relay_state == true);
  // Each address once, both forms of an interface's entries read.
  CHECK(texts(web.addresses) == std::vector<std::string>{"203.0.113.7", "10.0.1.23",
                                                         "fe80::81b:2cff:fe3d:4e5f", "10.0.2.5"});
  const Computer& unmanaged = page->computers[1];
  CHECK_FALSE(unmanaged.has_agent());
  CHECK(unmanaged.addresses.empty());
  CHECK_FALSE(unmanaged.relay_state);
  const Computer& db = page->computers[2];
  CHECK(db.name() == "db-01");
  CHECK(db.relay_state == false);
  CHECK(texts(db.addresses) == std::vector<std::string>{"10.9.0.4"});
}

TEST_CASE("the last page is empty", "[inventory][page]") {
  std::string error;
  const auto page = parse(R"({"computers": []})", error);
  REQUIRE(page);
  CHECK(page->computers.empty());
  CHECK(page->highest_id == 0);
}

TEST_CASE("anything else is refused whole, with the reason", "[inventory][page]") {
  const struct {
    const char* json;
    const char* reason;
  } cases[] = {
      {"", "not JSON"},
      {"[]", "not a JSON object"},
      {R"({"computer": []})", "no computers list"},
      {R"({"computers": {}})", "computers is not a list"},
      {R"({"computers": [1]})", "a computer is not an object"},
      {R"({"computers": [{"hostName": "x"}]})", "a computer without an ID"},
      {R"({"computers": [{"ID": "41"}]})", "ID is not a number"},
      {R"({"computers": [{"ID": -1}]})", "ID is not a number"},
      {R"({"computers": [{"ID": 1, "hostName": 7}]})", "hostName is not a string"},
      {R"({"computers": [{"ID": 1, "interfaces": []}]})", "interfaces is not an object"},
      {R"({"computers": [{"ID": 1, "interfaces": {"interfaces": [{"IPs": "10.0.0.1"}]}}]})",
       "IPs is not a list"},
      {R"({"computers": [{"ID": 1}, {"ID": 2})", "broken JSON"},
      {R"({"message": "Too many API requests."})", "the manager said: Too many API requests."},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    std::string error;
    CHECK_FALSE(parse(c.json, error));
    CHECK(error.find(c.reason) != std::string::npos);
  }
}

TEST_CASE("a page is bounded", "[inventory][page]") {
  std::string json = R"({"computers": [)";
  for (int i = 1; i <= 11; ++i)
    json += std::string(i > 1 ? "," : "") + "{\"ID\": " + std::to_string(i) + "}";
  json += "]}";
  PageLimits limits;
  limits.max_computers = 10;
  std::string error;
  CHECK_FALSE(parse(json, error, limits));
  CHECK(error == "more than 10 computers in one page");
  // Addresses past the bound are left out, not refused.
  std::string many = R"({"computers": [{"ID": 1, "interfaces": {"interfaces": [{"IPs": [)";
  for (int i = 0; i < 100; ++i)
    many += std::string(i ? "," : "") + "\"10.0.0." + std::to_string(i) + "\"";
  many += "]}]}}]}";
  const auto page = parse(many, error);
  REQUIRE(page);
  CHECK(page->computers[0].addresses.size() == PageLimits{}.max_addresses);
}

TEST_CASE("an interface's address, with or without its prefix", "[inventory][page]") {
  CHECK(interface_address("10.0.1.23")->to_string() == "10.0.1.23");
  CHECK(interface_address("10.0.1.23/24")->to_string() == "10.0.1.23");
  CHECK(interface_address("fe80::1/64")->to_string() == "fe80::1");
  CHECK(interface_address("::ffff:10.0.0.1")->unmapped().to_string() == "10.0.0.1");
  for (const char* bad : {"", "10.0.1.23/", "10.0.1.23/x", "10.0.1.23/1234", "eth0", "10.0.1"}) {
    INFO(bad);
    CHECK_FALSE(interface_address(bad));
  }
}

TEST_CASE("one reader and one list for a refresh's pages read each as a fresh parse does",
          "[inventory]") {
  // A large page, a refused one, a small one: what the reader's buffers and
  // the list's slots held before must not show through.
  std::string large = "{\"computers\": [";
  for (int id = 1; id <= 300; ++id) {
    large += (id > 1 ? "," : "");
    large += "{\"ID\": " + std::to_string(id) + ", \"hostName\": \"host-" + std::to_string(id) +
             ".corp.example\", \"agentVersion\": \"20.0.1.690\", \"lastIPUsed\": \"10.0.0." +
             std::to_string(id % 250 + 1) + "\"}";
  }
  large += "]}";
  const std::string refused = R"({"computers": [{"hostName": "no-id"}]})";
  PageReader reader;
  ComputerList list;
  std::string error;
  for (const std::string& json : {large, refused, kPage, large}) {
    std::string padded = json;
    padded.resize(json.size() + kPagePadding);
    std::string fresh_error;
    const auto fresh = parse(json, fresh_error);
    list.restart();
    const auto read =
        reader.read(std::string_view(padded.data(), json.size()), PageLimits{}, list, error);
    REQUIRE(read.has_value() == fresh.has_value());
    CHECK(error == fresh_error);
    if (!read) continue;
    CHECK(read->highest_id == fresh->highest_id);
    CHECK(std::vector<Computer>(list.computers().begin(), list.computers().end()) ==
          fresh->computers);
  }
}

TEST_CASE("a list read again knows whether anything an inventory is built from changed",
          "[inventory]") {
  std::string error;
  const auto page = parse(kPage, error);
  REQUIRE(page);
  const std::vector<Computer>& original = page->computers;
  ComputerList list;
  read_again(list, original);
  CHECK_FALSE(list.same_as_last());  // nothing before it
  read_again(list, original);
  CHECK(list.same_as_last());

  const std::vector<std::function<void(std::vector<Computer>&)>> changes = {
      [](auto& l) { l[0].id += 1; },
      [](auto& l) { l[0].host_name += "x"; },
      [](auto& l) { l[0].display_name = "web-02"; },
      [](auto& l) { l[0].agent_version = "20.0.1.691"; },
      [](auto& l) { l[0].relay_state = false; },
      [](auto& l) { l[1].relay_state = true; },
      [](auto& l) { l[0].addresses.pop_back(); },
      [](auto& l) { l[0].addresses[0] = *IpAddress::parse("10.0.1.24"); },
      [](auto& l) { std::swap(l[0], l[1]); },
      [](auto& l) { l.pop_back(); },
      [](auto& l) { l.push_back(l[0]); },
  };
  for (std::size_t i = 0; i < changes.size(); ++i) {
    INFO("change " << i);
    std::vector<Computer> changed = original;
    changes[i](changed);
    read_again(list, changed);
    CHECK_FALSE(list.same_as_last());
    CHECK(std::vector<Computer>(list.computers().begin(), list.computers().end()) == changed);
    read_again(list, original);
    CHECK_FALSE(list.same_as_last());
    read_again(list, original);
    CHECK(list.same_as_last());
  }

  // A refresh that read every computer and then failed (the empty page
  // after the last, say) left the new list in the slots, but no inventory
  // was built from it: the next whole list is not taken for the one before.
  std::vector<Computer> changed = original;
  changed[0].agent_version = "20.0.1.691";
  read_again(list, changed, false);
  read_again(list, changed);
  CHECK_FALSE(list.same_as_last());
  read_again(list, changed);
  CHECK(list.same_as_last());
}
