// The explicit-proxy request path: the incremental head reader in front of
// read_request_target, as the session runs them, on arbitrary heads. The
// first byte chooses where the bytes are split into two arrivals; the
// outcome must not depend on it (compared with one arrival).
#include <cstdlib>

#include <chokepoint/http/head_reader.hpp>
#include <chokepoint/http/request_target.hpp>

#include "fuzz_input.hpp"

using namespace chokepoint;

namespace {

struct Outcome {
  bool done = false;
  std::size_t taken = 0;
};

Outcome read_head(std::string_view raw, std::size_t split) {
  http::HeadParser parser;
  parser.header_limit(16 * 1024);
  std::size_t taken = 0;
  auto step = http::feed_request_head(parser, raw.substr(0, split), taken);
  if (step.ec == boost::beast::http::error::need_more)
    step = http::feed_request_head(parser, raw, taken);
  return {!step.ec && parser.is_header_done(), taken};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view raw = fuzz::text({data + 1, size - 1});
  const std::size_t split = raw.empty() ? 0 : data[0] % (raw.size() + 1);
  const Outcome whole = read_head(raw, raw.size());
  const Outcome pieces = read_head(raw, split);
  if (whole.done != pieces.done || (whole.done && whole.taken != pieces.taken)) std::abort();
  if (!whole.done) return 0;

  http::HeadParser parser;
  parser.header_limit(16 * 1024);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(raw.data(), raw.size()), ec);
  http::RequestTarget target;
  if (http::read_request_target(parser.get().base(), raw.substr(0, whole.taken), target) ==
      http::RequestError::None) {
    if (target.port == 0) std::abort();
    if (!target.connect && (target.origin_form.empty() || target.origin_form[0] != '/'))
      std::abort();
  }
  return 0;
}
