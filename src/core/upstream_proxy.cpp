#include <chokepoint/core/upstream_proxy.hpp>

namespace chokepoint {
namespace {

constexpr std::string_view kExpected = " (expected http://[USER:PASSWORD@]HOST:PORT)";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 2.1: "%XX" decoded; a '%' not followed by two hex digits, or a
// control character, is refused (it cannot be what the operator meant).
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      c = static_cast<char>(high * 16 + low);
      i += 2;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return std::nullopt;
    out += c;
  }
  return out;
}

std::optional<UpstreamProxy> fail(std::string* error, std::string message) {
  if (error) *error = std::move(message) + std::string(kExpected);
  return std::nullopt;
}

}  // namespace

std::optional<UpstreamProxy> UpstreamProxy::parse(std::string_view url, std::string* error) {
  const std::string quoted = "'" + std::string(url) + "'";
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return fail(error, "no scheme in " + quoted);
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme == "https") {
    return fail(error,
                "https:// parents are not supported (chokepoint speaks plain HTTP to its "
                "parent; the tunnels inside stay TLS)");
  }
  if (scheme != "http") return fail(error, "unknown scheme '" + std::string(scheme) + "'");
  std::string_view rest = url.substr(scheme_end + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos)
    return fail(error, "a parent proxy URL has no path, query or fragment: " + quoted);

  UpstreamProxy proxy;
  // The credentials end at the last '@': a password may contain '@' unencoded.
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password = percent_decode(colon == std::string_view::npos ? std::string_view()
                                                                   : userinfo.substr(colon + 1));
    // RFC 7617 2: a user-id containing ':' cannot be sent as Basic.
    if (!user || !password || user->find(':') != std::string::npos)
      return fail(error, "bad credentials in the parent proxy URL");
    if (user->empty()) return fail(error, "the parent proxy URL has a password but no user");
    proxy.user = std::move(*user);
    proxy.password = std::move(*password);
  }
  if (rest.empty()) return fail(error, "no host in " + quoted);
  const HostError host_error = parse_authority(rest, proxy.host, proxy.port);
  if (host_error == HostError::MissingPort)
    return fail(error, "the parent proxy's port is missing in " + quoted);
  if (host_error != HostError::None) {
    return fail(error, "bad host or port '" + std::string(rest) +
                           "': " + std::string(chokepoint::to_string(host_error)));
  }
  return proxy;
}

}  // namespace chokepoint
