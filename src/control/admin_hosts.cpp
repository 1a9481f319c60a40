#include "admin_hosts.hpp"

#include <chokepoint/core/host.hpp>

namespace chokepoint::control {
namespace {

constexpr std::uint16_t kHttpPort = 80;

}  // namespace

AdminHosts::AdminHosts(std::string_view machine_name) {
  Host host;
  if (!machine_name.empty() && normalize_host(machine_name, host) == HostError::None &&
      !host.is_ip())
    machine_name_ = host.name;
}

bool AdminHosts::own(std::optional<std::string_view> host_header, const IpAddress& local) const {
  if (!host_header) return true;
  Host host;
  std::uint16_t port = 0;
  if (parse_authority(*host_header, host, port, kHttpPort) != HostError::None) return false;
  if (host.is_ip()) {
    const IpAddress address = host.address.unmapped();
    return address == local.unmapped() || address == IpAddress::v4(0x7f000001) ||
           address == *IpAddress::parse("::1");
  }
  return host.name == "localhost" || (!machine_name_.empty() && host.name == machine_name_);
}

bool AdminHosts::same_origin(std::optional<std::string_view> origin,
                             std::optional<std::string_view> host_header) {
  if (!origin) return true;
  constexpr std::string_view kScheme = "http://";
  if (!host_header || origin->substr(0, kScheme.size()) != kScheme) return false;
  Host from;
  Host to;
  std::uint16_t from_port = 0;
  std::uint16_t to_port = 0;
  return parse_authority(origin->substr(kScheme.size()), from, from_port, kHttpPort) ==
             HostError::None &&
         parse_authority(*host_header, to, to_port, kHttpPort) == HostError::None &&
         from.name == to.name && from_port == to_port;
}

}  // namespace chokepoint::control
