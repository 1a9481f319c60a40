#include "inventory_page.hpp"

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/json.hpp>
#include <chokepoint/inventory/listing.hpp>

namespace chokepoint::control {
namespace {

std::string time_or_empty(std::chrono::system_clock::time_point t) {
  return t == std::chrono::system_clock::time_point{} ? std::string() : audit::format_timestamp(t);
}

}  // namespace

std::int64_t inventory_age_seconds(const InventoryPage& page) {
  // The last good refresh fetched the list in use (or one just like it).
  if (!page.inventory) return -1;
  return std::chrono::duration_cast<std::chrono::seconds>(page.now - page.status.last_good).count();
}

std::string render_inventory(const InventoryPage& page) {
  const inventory::RefreshStatus& s = page.status;
  std::string out;
  JsonObject json(out);
  json.field("configured", !page.url.empty())
      .string_or_null("url", page.url)
      .field("required", page.required)
      .field("applies", page.inventory != nullptr)
      .field("refreshes", s.refreshes);
  std::string failures;
  JsonObject by_error(failures);
  for (const auto& [error, count] : s.failures)
    by_error.field(error, count);
  by_error.close();
  json.raw_field("failures", failures)
      .string_or_null("last_good", time_or_empty(s.last_good))
      .string_or_null("last_changed", time_or_empty(s.last_changed))
      .string_or_null("last_attempt", time_or_empty(s.last_attempt))
      .string_or_null("last_error", s.last_error)
      .field("last_took_ms", static_cast<std::int64_t>(s.last_took.count()))
      .field("last_requests", std::uint64_t{s.last_requests})
      .field("age_s", inventory_age_seconds(page));
  if (page.inventory) {
    json.raw_field("inventory", inventory::listing_json(*page.inventory));
  } else {
    json.null_field("inventory");
  }
  json.close();
  return out + "\n";
}

}  // namespace chokepoint::control
