// The explicit-proxy request path: Beast's request parser in front of
// read_request_target, as the session runs them, on arbitrary heads.
#include <cstdlib>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <chokepoint/http/request_target.hpp>

#include "fuzz_input.hpp"

using namespace chokepoint;
namespace bhttp = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw = fuzz::text({data, size});
  bhttp::request_parser<bhttp::empty_body> parser;
  parser.header_limit(16 * 1024);
  boost::system::error_code ec;
  const std::size_t used = parser.put(boost::asio::buffer(raw.data(), raw.size()), ec);
  if (ec || !parser.is_header_done()) return 0;
  http::RequestTarget target;
  if (http::read_request_target(parser.get().base(), raw.substr(0, used), target) ==
      http::RequestError::None) {
    if (target.port == 0) std::abort();
    if (!target.connect && (target.origin_form.empty() || target.origin_form[0] != '/'))
      std::abort();
  }
  return 0;
}
