#include "probe_page.hpp"

#include <algorithm>
#include <tuple>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/json.hpp>

namespace chokepoint::control {
namespace {

std::string time_or_empty(std::chrono::system_clock::time_point t) {
  return t == std::chrono::system_clock::time_point{} ? std::string() : audit::format_timestamp(t);
}

void ms_field(JsonObject& json, std::string_view key, std::int64_t ms) {
  if (ms < 0) {
    json.null_field(key);
  } else {
    json.field(key, ms);
  }
}

std::string entry_json(const probe::Watched& w) {
  const probe::Result& r = w.result;
  std::string addresses = "[";
  for (const std::string& a : r.addresses) {
    if (addresses.size() > 1) addresses += ',';
    append_json_string(addresses, a);
  }
  addresses += ']';
  std::string out;
  JsonObject json(out);
  json.field("host", r.target.host.name)
      .field("port", unsigned{r.target.port})
      .field("tls", r.target.tls)
      .string_or_null("service", w.service)
      .string_or_null("rule", w.rule)
      .string_or_null("role", w.role)
      .string_or_null("versions", r.target.versions)
      .field("outcome", probe::to_string(r.outcome))
      .field("up", r.outcome == probe::Outcome::Ok)
      .string_or_null("detail", r.detail)
      .raw_field("addresses", addresses)
      .string_or_null("upstream", r.upstream)
      .string_or_null("upstream_proxy", r.upstream_proxy);
  ms_field(json, "dns_ms", r.dns_ms);
  ms_field(json, "connect_ms", r.connect_ms);
  ms_field(json, "tls_ms", r.tls_ms);
  json.string_or_null("subject", r.subject)
      .string_or_null("issuer", r.issuer)
      .string_or_null("probed_at", time_or_empty(w.probed_at))
      .string_or_null("since", time_or_empty(w.since))
      .field("changes", w.changes);
  json.close();
  return out;
}

}  // namespace

std::vector<probe::Watched> in_page_order(const probe::WatchView& view) {
  std::vector<probe::Watched> out = view.watched;
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    const bool a_up = a.result.outcome == probe::Outcome::Ok;
    const bool b_up = b.result.outcome == probe::Outcome::Ok;
    return std::tie(a_up, a.service, a.result.target.host.name, a.result.target.port) <
           std::tie(b_up, b.service, b.result.target.host.name, b.result.target.port);
  });
  return out;
}

std::string render_probe(const ProbePage& page) {
  const probe::WatchView& v = page.view;
  std::size_t failing = 0;
  for (const auto& w : v.watched)
    failing += probe::is_failure(w.result.outcome) ? 1 : 0;
  std::string list = "[";
  for (const auto& w : in_page_order(v)) {
    if (list.size() > 1) list += ',';
    list += entry_json(w);
  }
  list += ']';

  std::string out;
  JsonObject json(out);
  json.field("enabled", page.enabled)
      .field("interval_ms", static_cast<std::int64_t>(v.interval.count()))
      .field("rounds", v.rounds)
      .field("destinations", std::uint64_t{v.targets})
      .field("probed", std::uint64_t{v.watched.size()})
      .field("failing", std::uint64_t{failing})
      .string_or_null("last_probe", time_or_empty(v.last_probe))
      .raw_field("results", list);
  json.close();
  return out + "\n";
}

std::map<std::string, std::int64_t> destination_up(const probe::WatchView& view) {
  std::map<std::string, std::int64_t> out;
  for (const auto& w : view.watched) {
    if (w.result.outcome == probe::Outcome::NotProbed) continue;
    out[w.service + '\x1f' + w.result.target.host.name + '\x1f' +
        std::to_string(w.result.target.port)] = w.result.outcome == probe::Outcome::Ok ? 1 : 0;
  }
  return out;
}

}  // namespace chokepoint::control
