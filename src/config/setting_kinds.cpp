#include <charconv>

#include <chokepoint/config/setting_kinds.hpp>
#include <chokepoint/core/diagnostic.hpp>
#include <chokepoint/core/duration.hpp>
#include <chokepoint/core/host.hpp>
#include <chokepoint/core/rate.hpp>

namespace chokepoint::config {
namespace {

// "NAME: why", the shape of every parse error.
template <class T>
std::optional<T> parsed(std::optional<T> value, std::string_view name, const std::string& why,
                        std::string& error) {
  if (!value) error = std::string(name) + ": " + why;
  return value;
}

}  // namespace

std::optional<Endpoint> EndpointList::parse(std::string_view text, std::string_view name,
                                            std::string& error) {
  std::string why;
  auto value = Endpoint::parse(text, &why);
  return parsed(std::move(value), name, why, error);
}

std::optional<std::optional<Endpoint>> OptionalEndpoint::parse(std::string_view text,
                                                               std::string_view name,
                                                               std::string& error) {
  if (text == "none") return std::optional<Endpoint>();
  std::string why;
  auto value = Endpoint::parse(text, &why);
  if (!value) {
    error = std::string(name) + ": " + why;
    return std::nullopt;
  }
  return std::optional<Endpoint>(*value);
}

std::optional<Endpoint> DnsServerList::parse(std::string_view text, std::string_view name,
                                             std::string& error) {
  std::string why;
  auto server = Endpoint::parse_with_default_port(text, 53, &why);
  if (!server) error = std::string(name) + ": " + why;
  return server;
}

std::optional<SyslogTarget> SyslogList::parse(std::string_view text, std::string_view name,
                                              std::string& error) {
  std::string why;
  auto value = SyslogTarget::parse(text, &why);
  return parsed(std::move(value), name, why, error);
}

std::optional<ConnectTo> ConnectToList::parse(std::string_view text, std::string_view name,
                                              std::string& error) {
  std::string why;
  auto value = ConnectTo::parse(text, &why);
  return parsed(std::move(value), name, why, error);
}

std::optional<Cidr> CidrList::parse(std::string_view text, std::string_view name,
                                    std::string& error) {
  std::string why;
  auto value = Cidr::parse(text, &why);
  return parsed(std::move(value), name, why, error);
}

std::optional<std::optional<UpstreamProxy>> UpstreamProxyUrl::parse(std::string_view text,
                                                                    std::string_view name,
                                                                    std::string& error) {
  std::string why;
  auto value = UpstreamProxy::parse(text, &why);
  if (!value) {
    error = std::string(name) + ": " + why;
    return std::nullopt;
  }
  return std::optional<UpstreamProxy>(std::move(*value));
}

std::optional<std::uint16_t> Port::parse(std::string_view text, std::string_view name,
                                         std::string& error) {
  std::uint16_t port = 0;
  if (parse_port(text, port) != HostError::None) {
    error = std::string(name) + ": bad port " + quote(text);
    return std::nullopt;
  }
  return port;
}

std::optional<std::string> Text::parse(std::string_view text, std::string_view, std::string&) {
  return std::string(text);
}

template <class T>
std::optional<T> Number<T>::parse(std::string_view text, std::string_view name,
                                  std::string& error) {
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() ||
      value > 1'000'000'000) {
    error = std::string(name) + ": expected a whole number, not " + quote(text);
    return std::nullopt;
  }
  return static_cast<T>(value);
}

template struct Number<int>;
template struct Number<std::size_t>;

std::optional<double> Rate::parse(std::string_view text, std::string_view name,
                                  std::string& error) {
  const auto value = parse_rate(text);
  if (!value)
    error = std::string(name) + ": expected a rate such as 10/s or 600/m, not " + quote(text);
  return value;
}

std::optional<std::chrono::milliseconds> Duration::parse(std::string_view text,
                                                         std::string_view name,
                                                         std::string& error) {
  const auto value = parse_duration(text);
  if (!value) error = std::string(name) + ": bad duration " + quote(text);
  return value;
}

std::optional<bool> Switch::parse(std::string_view text, std::string_view name,
                                  std::string& error) {
  if (text == "true") return true;
  if (text == "false") return false;
  error = std::string(name) + " must be true or false, not " + quote(text);
  return std::nullopt;
}

std::optional<bool> RelayMode::parse(std::string_view text, std::string_view name,
                                     std::string& error) {
  if (text == "auto") return false;
  if (text == "copy") return true;
  error = std::string(name) + " must be auto or copy, not " + quote(text);
  return std::nullopt;
}

std::optional<bool> AuditOnFailure::parse(std::string_view text, std::string_view name,
                                          std::string& error) {
  if (text == "continue") return false;
  if (text == "refuse") return true;
  error = std::string(name) + " must be continue or refuse, not " + quote(text);
  return std::nullopt;
}

}  // namespace chokepoint::config
