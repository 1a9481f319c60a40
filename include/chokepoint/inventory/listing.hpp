// An inventory as JSON, for `chokepoint inventory --format json` and the
// admin endpoint's GET /inventory alike:
//   {"computers", "clients", "relays", "addresses": [{"address", "computer",
//    "computer_id", "role", "version"}, ...], "ambiguous": [{"address",
//    "computer_ids": [...]}, ...]}
#pragma once

#include <string>

#include <chokepoint/inventory/inventory.hpp>

namespace chokepoint::inventory {

std::string listing_json(const Inventory& inventory);

}  // namespace chokepoint::inventory
