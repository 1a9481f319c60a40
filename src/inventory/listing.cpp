#include <chokepoint/core/json.hpp>
#include <chokepoint/inventory/listing.hpp>

namespace chokepoint::inventory {

std::string listing_json(const Inventory& inventory) {
  std::string out;
  JsonObject json(out);
  json.field("computers", std::uint64_t{inventory.computers()})
      .field("clients", std::uint64_t{inventory.clients()})
      .field("relays", std::uint64_t{inventory.relays()});
  std::string addresses = "[";
  for (const auto& [address, client] : inventory.entries()) {
    if (addresses.size() > 1) addresses += ',';
    JsonObject entry(addresses);
    entry.field("address", address.to_string())
        .field("computer", client->name)
        .field("computer_id", std::uint64_t{client->id})
        .field("role", to_string(client->role))
        .string_or_null("version", client->version ? client->version->to_string() : "");
    entry.close();
  }
  json.raw_field("addresses", addresses + "]");
  std::string ambiguous = "[";
  for (const auto& shared : inventory.ambiguous()) {
    if (ambiguous.size() > 1) ambiguous += ',';
    std::string ids = "[";
    for (const auto id : shared.computer_ids)
      ids += (ids.size() > 1 ? "," : "") + std::to_string(id);
    JsonObject entry(ambiguous);
    entry.field("address", shared.address.to_string()).raw_field("computer_ids", ids + "]");
    entry.close();
  }
  json.raw_field("ambiguous", ambiguous + "]");
  json.close();
  return out;
}

}  // namespace chokepoint::inventory
