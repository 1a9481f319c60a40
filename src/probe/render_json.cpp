#include <chokepoint/core/json.hpp>
#include <chokepoint/probe/render.hpp>

namespace chokepoint::probe {
namespace {

void ms_field(JsonObject& json, std::string_view key, std::int64_t ms) {
  if (ms < 0) {
    json.null_field(key);
  } else {
    json.field(key, ms);
  }
}

}  // namespace

std::string json_line(const Result& r) {
  const Target& t = r.target;
  std::string addresses = "[";
  for (const std::string& a : r.addresses) {
    if (addresses.size() > 1) addresses += ',';
    append_json_string(addresses, a);
  }
  addresses += ']';

  std::string out;
  JsonObject json(out);
  json.field("host", t.host.name);
  // A port range that is not probed has no one port.
  if (t.ports == std::to_string(t.port)) {
    json.field("port", unsigned{t.port});
  } else {
    json.null_field("port").field("ports", t.ports);
  }
  json.field("tls", t.tls)
      .string_or_null("service", t.service())
      .string_or_null("rule", t.rule_id())
      .string_or_null("versions", t.versions)
      .field("outcome", to_string(r.outcome))
      .string_or_null("detail", r.detail)
      .raw_field("addresses", addresses)
      .string_or_null("upstream", r.upstream)
      .string_or_null("upstream_proxy", r.upstream_proxy);
  ms_field(json, "dns_ms", r.dns_ms);
  ms_field(json, "connect_ms", r.connect_ms);
  ms_field(json, "tls_ms", r.tls_ms);
  json.string_or_null("subject", r.subject).string_or_null("issuer", r.issuer);
  json.close();
  return out;
}

}  // namespace chokepoint::probe
