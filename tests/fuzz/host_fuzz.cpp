// Host normalisation and authority parsing: no crash, normalisation is
// idempotent, and what comes out is in the allowed character set.
#include <cstdlib>

#include <chokepoint/core/host.hpp>

#include "fuzz_input.hpp"

using namespace chokepoint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::text({data, size});
  Host host;
  if (normalize_host(text, host) == HostError::None) {
    Host again;
    if (normalize_host(host.name, again) != HostError::None || again.name != host.name ||
        again.kind != host.kind) {
      std::abort();
    }
    if (host.kind == HostKind::Name) {
      if (host.name.empty() || host.name.size() > 253) std::abort();
      for (char c : host.name) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
          std::abort();
      }
    }
  }
  std::uint16_t port = 0;
  if (parse_authority(text, host, port, 80) == HostError::None && port == 0) std::abort();
  return 0;
}
