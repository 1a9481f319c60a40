// The config loader (policy and settings) on arbitrary text: it must answer
// with a configuration or with diagnostics that name a place, and never
// crash or throw.
#include <cstdlib>

#include <chokepoint/config/config_file.hpp>
#include <chokepoint/policy/snapshot.hpp>

#include "fuzz_input.hpp"

using namespace chokepoint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  const auto loaded = config::load_config_text(fuzz::text({data, size}), "fuzz.yaml");
  if (!loaded) {
    if (loaded.diagnostics().empty()) std::abort();
    for (const auto& d : loaded.diagnostics()) {
      if (d.file.empty() || d.message.empty()) std::abort();
    }
    return 0;
  }
  auto built = policy::Snapshot::build(loaded.value().policy.policy);
  if (built) {
    Host host;
    normalize_host("ds20.icrc.trendmicro.com", host);
    (void)built.value()->decide(host, 443,
                                built.value()->identity_for(policy::kAnyRole, std::nullopt));
  }
  return 0;
}
