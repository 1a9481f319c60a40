#include <boost/beast/http/rfc7230.hpp>

#include <chokepoint/http/request_target.hpp>

namespace chokepoint::http {
namespace bhttp = boost::beast::http;
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto la = static_cast<char>(a[i] >= 'A' && a[i] <= 'Z' ? a[i] - 'A' + 'a' : a[i]);
    const auto lb = static_cast<char>(b[i] >= 'A' && b[i] <= 'Z' ? b[i] - 'A' + 'a' : b[i]);
    if (la != lb) return false;
  }
  return true;
}

std::string_view view(boost::beast::string_view s) {
  return {s.data(), s.size()};
}

// Dot-segments and encodings of the characters that form them.
bool ambiguous_path(std::string_view path) {
  for (std::size_t i = 0; i + 2 < path.size(); ++i) {
    if (path[i] != '%') continue;
    const char a = path[i + 1];
    const char b = static_cast<char>(path[i + 2] | 0x20);  // lowercase a hex letter
    if ((a == '2' && (b == 'e' || b == 'f')) || (a == '5' && b == 'c')) return true;
  }
  if (path.find('\\') != std::string_view::npos) return true;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto end = path.find('/', start);
    const auto segment =
        path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (segment == "." || segment == "..") return true;
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return false;
}

RequestError check_transfer_encoding(const RequestHeader& header) {
  const auto te = header.find(bhttp::field::transfer_encoding);
  if (te == header.end()) return RequestError::None;
  // The last coding must be chunked, or the body has no end we could find
  // (RFC 9112 6.3): refuse rather than guess the framing.
  bhttp::token_list codings(te->value());
  std::string_view last;
  for (const auto& coding : codings)
    last = view(coding);
  if (!iequals(last, "chunked")) return RequestError::BadTransferEncoding;
  return RequestError::None;
}

// The refusals every request form shares.
RequestError check_common(const RequestHeader& header, std::string_view raw_head) {
  if (has_obs_fold(raw_head)) return RequestError::ObsFold;
  if (header.count(bhttp::field::host) > 1) return RequestError::DuplicateHost;
  return check_transfer_encoding(header);
}

}  // namespace

std::string_view to_string(RequestError error) {
  switch (error) {
    case RequestError::None:
      return "ok";
    case RequestError::OriginForm:
      return "origin-form request: this is a proxy, send an absolute URI or CONNECT";
    case RequestError::AsteriskForm:
      return "asterisk-form request";
    case RequestError::BadTarget:
      return "malformed request target";
    case RequestError::HttpsAbsoluteForm:
      return "https:// in absolute-form: use CONNECT for TLS";
    case RequestError::UnsupportedScheme:
      return "unsupported URI scheme";
    case RequestError::BadAuthority:
      return "malformed host or port";
    case RequestError::UserInfo:
      return "user info in the request target";
    case RequestError::DuplicateHost:
      return "more than one Host header";
    case RequestError::HostMismatch:
      return "Host header disagrees with the request target";
    case RequestError::ObsFold:
      return "obsolete line folding in a header";
    case RequestError::BadTransferEncoding:
      return "Transfer-Encoding other than chunked";
    case RequestError::AmbiguousPath:
      return "dot-segments or encoded separators in the path";
    case RequestError::MissingHost:
      return "no Host header";
    case RequestError::NotOriginForm:
      return "a transparently intercepted request must be origin-form";
  }
  return "malformed request";
}

bool has_obs_fold(std::string_view raw_head) {
  // The request line ends at the first CRLF; a header line that begins with
  // SP or HTAB continues the previous one. The final CRLF CRLF ends the head.
  const auto end = raw_head.find("\r\n\r\n");
  const auto head = raw_head.substr(0, end == std::string_view::npos ? raw_head.size() : end + 2);
  for (std::size_t at = head.find("\r\n"); at != std::string_view::npos;
       at = head.find("\r\n", at + 2)) {
    if (at + 2 < head.size() && (head[at + 2] == ' ' || head[at + 2] == '\t')) return true;
  }
  return false;
}

HttpGuess guess_http(std::string_view first) {
  // RFC 9110 method names are tokens; the ones in use are uppercase letters.
  constexpr std::size_t kLongestMethod = 16;
  for (std::size_t i = 0; i < first.size() && i <= kLongestMethod; ++i) {
    const char c = first[i];
    if (c == ' ') return i >= 3 ? HttpGuess::Http : HttpGuess::NotHttp;
    if (c < 'A' || c > 'Z') return HttpGuess::NotHttp;
  }
  return first.size() > kLongestMethod ? HttpGuess::NotHttp : HttpGuess::NeedMore;
}

RequestError read_origin_request(const RequestHeader& header, std::string_view raw_head,
                                 std::uint16_t port, RequestTarget& out) {
  if (const auto error = check_common(header, raw_head); error != RequestError::None) return error;
  const std::string_view target = view(header.target());
  if (header.method() == bhttp::verb::connect || target.empty() || target.front() != '/') {
    return RequestError::NotOriginForm;
  }
  std::string_view path = target.substr(0, target.find('#'));
  out.origin_form = std::string(path);
  out.path = std::string(path.substr(0, path.find('?')));
  if (ambiguous_path(out.path)) return RequestError::AmbiguousPath;
  out.port = port;
  const auto host_field = header.find(bhttp::field::host);
  if (host_field == header.end()) return RequestError::MissingHost;
  std::uint16_t ignored_port = 0;
  out.host_error = parse_authority(view(host_field->value()), out.host, ignored_port, port);
  return out.host_error == HostError::None ? RequestError::None : RequestError::BadAuthority;
}

RequestError read_request_target(const RequestHeader& header, std::string_view raw_head,
                                 RequestTarget& out) {
  if (const auto error = check_common(header, raw_head); error != RequestError::None) return error;

  const std::string_view target = view(header.target());
  if (header.method() == bhttp::verb::connect) {
    out.connect = true;
    if (target.find('@') != std::string_view::npos) return RequestError::UserInfo;
    out.host_error = parse_authority(target, out.host, out.port);
    return out.host_error == HostError::None ? RequestError::None : RequestError::BadAuthority;
  }

  if (target == "*") return RequestError::AsteriskForm;
  if (!target.empty() && target.front() == '/') return RequestError::OriginForm;
  const auto scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return RequestError::BadTarget;
  const auto scheme = target.substr(0, scheme_end);
  if (iequals(scheme, "https")) return RequestError::HttpsAbsoluteForm;
  if (!iequals(scheme, "http")) return RequestError::UnsupportedScheme;

  std::string_view rest = target.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  const auto authority = rest.substr(0, authority_end);
  rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) return RequestError::UserInfo;
  out.host_error = parse_authority(authority, out.host, out.port, 80);
  if (out.host_error != HostError::None) return RequestError::BadAuthority;

  // The fragment never goes to the server.
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  out.origin_form =
      rest.empty() || rest.front() == '?' ? "/" + std::string(rest) : std::string(rest);
  const auto query = out.origin_form.find('?');
  out.path = out.origin_form.substr(0, query);
  if (ambiguous_path(out.path)) return RequestError::AmbiguousPath;

  const auto host_field = header.find(bhttp::field::host);
  if (host_field != header.end()) {
    Host host;
    std::uint16_t port = 0;
    if (parse_authority(view(host_field->value()), host, port, 80) != HostError::None ||
        host.name != out.host.name || port != out.port) {
      return RequestError::HostMismatch;
    }
  }
  return RequestError::None;
}

}  // namespace chokepoint::http
