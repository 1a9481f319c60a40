// Private to the proxy module: the PAC file explicit listeners serve
// (GET /proxy.pac, /wpad.dat), made from the policy a connection is pinned
// to, for the address the client fetched it from.
#pragma once

#include <memory>
#include <string>

#include <chokepoint/pac/pac_file.hpp>
#include <chokepoint/policy/snapshot.hpp>

namespace chokepoint::proxy {

// The PAC file of `snapshot` naming `proxy`. Generated once per policy and
// address on each I/O thread (a reload brings a new snapshot, so a new file)
// and kept for the next client that asks the same.
const std::string& auto_config_file(const std::shared_ptr<const policy::Snapshot>& snapshot,
                                    const pac::ProxyAddress& proxy);

}  // namespace chokepoint::proxy
