#include <chokepoint/core/host.hpp>
#include <chokepoint/core/syslog_target.hpp>

namespace chokepoint {

std::optional<SyslogTarget> SyslogTarget::parse(std::string_view url, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<SyslogTarget> {
    if (error)
      *error = std::move(message) +
               " (expected udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT, "
               "optionally followed by /json or /cef)";
    return std::nullopt;
  };
  SyslogTarget t;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return fail("no scheme in '" + std::string(url) + "'");
  const auto scheme = url.substr(0, scheme_end);
  if (scheme == "udp") {
    t.transport = Transport::Udp;
  } else if (scheme == "tcp") {
    t.transport = Transport::Tcp;
  } else if (scheme == "tls") {
    t.transport = Transport::Tls;
  } else {
    return fail("unknown scheme '" + std::string(scheme) + "'");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  const auto slash = rest.find('/');
  const auto format = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  rest = rest.substr(0, slash);
  if (format == "cef") {
    t.format = SiemFormat::Cef;
  } else if (!format.empty() && format != "json") {
    return fail("unknown format '" + std::string(format) + "'");
  }
  Host host;
  if (parse_authority(rest, host, t.port, 514) != HostError::None)
    return fail("bad host or port '" + std::string(rest) + "'");
  t.host = host.name;
  return t;
}

std::string SyslogTarget::to_string() const {
  const char* scheme = transport == Transport::Udp   ? "udp"
                       : transport == Transport::Tcp ? "tcp"
                                                     : "tls";
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(scheme) + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) +
         (format == SiemFormat::Cef ? "/cef" : "/json");
}

}  // namespace chokepoint
