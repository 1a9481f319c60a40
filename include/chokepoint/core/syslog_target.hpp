// A syslog destination as operators write it: udp://HOST:PORT,
// tcp://HOST:PORT or tls://HOST:PORT, optionally followed by /json (the
// default) or /cef. The port defaults to 514.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chokepoint {

enum class SiemFormat : std::uint8_t { Json, Cef };

struct SyslogTarget {
  enum class Transport : std::uint8_t { Udp, Tcp, Tls };
  Transport transport = Transport::Udp;
  std::string host;
  std::uint16_t port = 514;
  SiemFormat format = SiemFormat::Json;
  std::string
      ca_file;  // TLS: the CA that signed the SIEM's certificate (default: the system store)

  static std::optional<SyslogTarget> parse(std::string_view url, std::string* error = nullptr);
  std::string to_string() const;
};

}  // namespace chokepoint
