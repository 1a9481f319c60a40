// Reading a request head as its bytes arrive, in front of Beast's parser.
//
// Beast takes the start line as soon as it is complete, even while it waits
// for the rest of the fields: put() then answers "need more" *and* reports
// bytes used. Those bytes must never be handed to it again (it would read
// the request line as a field and refuse the request). The head stays in
// the caller's buffer until it is complete, so that folded lines (obs-fold,
// which Beast accepts and request smuggling uses) are judged on all of it.
#pragma once

#include <cstddef>
#include <string_view>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/system/error_code.hpp>

namespace chokepoint::http {

using HeadParser = boost::beast::http::request_parser<boost::beast::http::empty_body>;

struct HeadStep {
  boost::system::error_code ec;  // http::error::need_more until the head is complete
  bool folded = false;           // ec is bad_field because of an obs-fold line
};

// `received`: every byte received so far, from the head's first byte on;
// `taken`: how many of them the parser has already taken (0 at first). Hands
// the parser the rest and advances `taken`. Without error, the head is
// received[0, taken).
HeadStep feed_request_head(HeadParser& parser, std::string_view received, std::size_t& taken);

}  // namespace chokepoint::http
