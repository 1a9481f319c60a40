// GET /inventory: how the manager's computer list is kept (the refresher's
// status) and the map in use, as one JSON object.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <chokepoint/inventory/refresher.hpp>

namespace chokepoint::control {

struct InventoryPage {
  std::string url;  // the manager's API; empty: the policy has no inventory
  bool required = false;
  inventory::RefreshStatus status;
  std::shared_ptr<const inventory::Inventory> inventory;  // null: none applies
  std::chrono::system_clock::time_point now;
};

// {"configured", "url", "required", "applies", "refreshes", "failures": {ERROR: N},
// "last_good", "last_changed", "last_attempt", "last_error", "last_took_ms",
// "last_requests", "age_s", "inventory": listing_json or null} and a newline.
std::string render_inventory(const InventoryPage& page);

// Seconds since the last good refresh, which fetched the inventory in use
// or found the list unchanged; -1 when none applies.
std::int64_t inventory_age_seconds(const InventoryPage& page);

}  // namespace chokepoint::control
