// A page of the manager's computer list (inventory/computers.hpp) from
// arbitrary bytes: no crash, no read past the input (ASan), and a page only
// within its bounds; the address map is built from whatever was accepted.
#include <cstdlib>
#include <string>

#include <chokepoint/inventory/computers.hpp>
#include <chokepoint/inventory/inventory.hpp>

using namespace chokepoint::inventory;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // simdjson reads up to kPagePadding bytes past the end: the padding is ours.
  std::string json(reinterpret_cast<const char*>(data), size);
  json.append(kPagePadding, '\0');
  PageLimits limits;
  limits.max_computers = 50;
  limits.max_addresses = 8;
  limits.max_name_bytes = 64;
  std::string error;
  PageReader reader;
  ComputerList list;
  const auto page = reader.read(std::string_view(json.data(), size), limits, list, error);
  if (!page) {
    if (error.empty()) std::abort();  // a refusal always says why
    return 0;
  }
  if (page->computers > limits.max_computers || page->computers != list.size()) std::abort();
  for (const Computer& c : list.computers()) {
    if (c.addresses.size() > limits.max_addresses) std::abort();
    if (c.host_name.size() > limits.max_name_bytes || c.display_name.size() > limits.max_name_bytes)
      std::abort();
    if (c.id > page->highest_id) std::abort();
  }
  list.finish();
  const auto map = Inventory::build(list.computers(), {});
  if (map->addresses() + map->ambiguous().size() > 50 * 8) std::abort();
  return 0;
}
