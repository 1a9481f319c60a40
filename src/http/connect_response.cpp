#include <boost/beast/http/error.hpp>

#include <chokepoint/http/connect_response.hpp>

namespace chokepoint::http {
namespace {

namespace bhttp = boost::beast::http;

constexpr std::size_t kMaxReason = 64;

std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, kMaxReason)) {
    const auto u = static_cast<unsigned char>(c);
    out += u < 0x20 || u > 0x7e ? '?' : c;
  }
  return out;
}

}  // namespace

std::string_view to_string(ConnectAnswer answer) {
  switch (answer) {
    case ConnectAnswer::NeedMore:
      return "need_more";
    case ConnectAnswer::Established:
      return "established";
    case ConnectAnswer::Refused:
      return "refused";
    case ConnectAnswer::Malformed:
      return "malformed";
    case ConnectAnswer::TooLarge:
      return "too_large";
  }
  return "malformed";
}

ConnectResponseReader::ConnectResponseReader(std::size_t max_head_bytes) : max_(max_head_bytes) {}

ConnectAnswer ConnectResponseReader::settle(ConnectAnswer answer, std::string error) {
  answer_ = answer;
  error_ = std::move(error);
  return answer_;
}

ConnectAnswer ConnectResponseReader::feed(std::string_view received) {
  constexpr std::string_view kVersion = "HTTP/";
  constexpr std::string_view kEnd = "\r\n\r\n";
  while (answer_ == ConnectAnswer::NeedMore) {
    const std::string_view rest = received.substr(std::min(taken_, received.size()));
    // What cannot begin a response is refused as soon as it arrives.
    const std::size_t prefix = std::min(rest.size(), kVersion.size());
    if (rest.substr(0, prefix) != kVersion.substr(0, prefix))
      return settle(ConnectAnswer::Malformed, "not an HTTP response");
    // Beast is handed whole heads only: it decides some errors at once and
    // others only once the head's end is in (its start line, its fields),
    // and the outcome must not depend on how the bytes arrived.
    const std::size_t end = rest.find(kEnd);
    if (end == std::string_view::npos || taken_ + end + kEnd.size() > max_) {
      if (received.size() > max_ || end != std::string_view::npos) {
        return settle(ConnectAnswer::TooLarge,
                      "response head larger than " + std::to_string(max_) + " bytes");
      }
      break;
    }
    const std::string_view head = rest.substr(0, end + kEnd.size());
    Parser parser;
    parser.header_limit(static_cast<std::uint32_t>(max_));
    // A response to CONNECT: a 2xx has no body whatever its fields say (RFC
    // 9110 9.3.6), and a refusal's body is not ours to read.
    parser.skip(true);
    boost::system::error_code ec;
    const std::size_t used = parser.put(boost::asio::buffer(head.data(), head.size()), ec);
    if (ec || used != head.size() || !parser.is_header_done()) {
      return settle(
          ConnectAnswer::Malformed,
          "not an HTTP response: " + (ec ? ec.message() : std::string("incomplete head")));
    }
    taken_ += head.size();
    const unsigned code = parser.get().result_int();
    if (code >= 100 && code < 200 && code != 101) continue;  // interim: the final one follows
    status_ = static_cast<int>(code);
    const auto reason = parser.get().reason();
    reason_ = printable({reason.data(), reason.size()});
    answer_ = code >= 200 && code < 300 ? ConnectAnswer::Established : ConnectAnswer::Refused;
  }
  return answer_;
}

}  // namespace chokepoint::http
