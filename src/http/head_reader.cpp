#include <chokepoint/http/head_reader.hpp>
#include <chokepoint/http/request_target.hpp>

namespace chokepoint::http {

HeadStep feed_request_head(HeadParser& parser, std::string_view received, std::size_t& taken) {
  HeadStep step;
  if (received.size() <= taken) {
    step.ec = boost::beast::http::error::need_more;
    return step;
  }
  const std::string_view fresh = received.substr(taken);
  taken += parser.put(boost::asio::buffer(fresh.data(), fresh.size()), step.ec);
  if (!step.ec && has_obs_fold(received.substr(0, taken))) {
    step.ec = boost::beast::http::error::bad_field;
    step.folded = true;
  }
  return step;
}

}  // namespace chokepoint::http
