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
  auto page = parse_computer_page(std::string_view(json.data(), size), limits, error);
  if (!page) {
    if (error.empty()) std::abort();  // a refusal always says why
    return 0;
  }
  if (page->computers.size() > limits.max_computers) std::abort();
  for (const Computer& c : page->computers) {
    if (c.addresses.size() > limits.max_addresses) std::abort();
    if (c.host_name.size() > limits.max_name_bytes || c.display_name.size() > limits.max_name_bytes)
      std::abort();
    if (c.id > page->highest_id) std::abort();
  }
  const auto map = Inventory::build(std::move(page->computers), {});
  if (map->addresses() + map->ambiguous().size() > 50 * 8) std::abort();
  return 0;
}
