#include "auto_config.hpp"

namespace chokepoint::proxy {

const std::string& auto_config_file(const std::shared_ptr<const policy::Snapshot>& snapshot,
                                    const pac::ProxyAddress& proxy) {
  // One per I/O thread: no lock. Holding the snapshot (not its address)
  // means a new policy can never be taken for the cached one.
  struct Cached {
    std::shared_ptr<const policy::Snapshot> snapshot;
    std::string proxy;
    std::string text;
  };
  thread_local Cached cached;
  const std::string address = proxy.to_string();
  if (cached.snapshot != snapshot || cached.proxy != address) {
    cached.text = pac::generate_pac(snapshot->policy(), proxy, snapshot->policy().pac.fallback);
    cached.snapshot = snapshot;
    cached.proxy = address;
  }
  return cached.text;
}

}  // namespace chokepoint::proxy
