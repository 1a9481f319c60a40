#include "policy_page.hpp"

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/json.hpp>

namespace chokepoint::control {

std::string render_policy(const RunningPolicy& running,
                          const std::vector<policy::LoadedCatalog>& catalogs) {
  std::string listed = "[";
  for (const auto& loaded : catalogs) {
    if (listed.size() > 1) listed += ',';
    JsonObject catalog(listed);
    catalog.field("name", loaded.catalog->name).field("edition", loaded.catalog->edition);
    for (const auto& [name, values] : loaded.variables) {
      std::string list = "[";
      for (const auto& value : values) {
        if (list.size() > 1) list += ',';
        append_json_string(list, value);
      }
      catalog.raw_field(name, list + "]");
    }
    catalog.close();
  }
  std::string out;
  JsonObject json(out);
  json.field("source", running.source)
      .raw_field("catalogs", listed + "]")
      .field("sha256", running.sha256)
      .field("loaded_at", audit::format_timestamp(running.loaded_at))
      .field("rules", std::uint64_t{running.rules})
      .field("generation", running.generation)
      .field("reloads", running.reloads)
      .field("reload_failures", running.reload_failures);
  json.close();
  return out + "\n";
}

}  // namespace chokepoint::control
