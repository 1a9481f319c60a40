// A parent proxy's answer to our CONNECT (RFC 9110 9.3.6, RFC 9112 4), read
// as its bytes arrive, in front of Beast's response parser.
//
// The parent answers with a response head: a 2xx opens the tunnel, and
// every byte after that head is the destination's (a server that speaks
// first may be quick), so the reader says exactly where the head ends and
// never takes a byte past it. Anything else is the parent's refusal; its
// body, if any, is not read. Interim 1xx answers (but 101) are skipped.
//
// Bounded: the answer's heads together may take at most `max_head_bytes`;
// past that it is TooLarge, however the bytes arrive. Incremental: any
// segmentation of the same bytes gives the same outcome at the same place
// (tests/unit/http/connect_response_test.cpp splits at every byte; a
// libFuzzer target checks it on arbitrary input): bytes that cannot begin
// "HTTP/" are refused at once, and a head goes to Beast's parser only once
// its blank line is in. Never throws; no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

namespace chokepoint::http {

enum class ConnectAnswer : std::uint8_t {
  NeedMore,     // the head is not complete: read more and feed again
  Established,  // 2xx: the tunnel is open from head_bytes() on
  Refused,      // a final answer other than 2xx: status() and reason() say which
  Malformed,    // not an HTTP response head (error() says why)
  TooLarge,     // the head did not end within max_head_bytes
};
std::string_view to_string(ConnectAnswer answer);

class ConnectResponseReader {
 public:
  explicit ConnectResponseReader(std::size_t max_head_bytes = 16 * 1024);

  // `received`: every byte the parent has sent so far, from its first one
  // (the caller keeps them). Returns NeedMore until the answer is settled,
  // then the same final value (taking nothing more).
  ConnectAnswer feed(std::string_view received);

  ConnectAnswer answer() const { return answer_; }
  // Established and Refused: the final status code, and its reason phrase
  // (printable ASCII, at most 64 characters; for records and messages).
  int status() const { return status_; }
  std::string_view reason() const { return reason_; }
  // Established: how many bytes of `received` were the parent's (its
  // interim and final heads); the rest is the destination's.
  std::size_t head_bytes() const { return taken_; }
  // Malformed and TooLarge: a short lowercase reason.
  std::string_view error() const { return error_; }

 private:
  using Parser = boost::beast::http::response_parser<boost::beast::http::empty_body>;
  ConnectAnswer settle(ConnectAnswer answer, std::string error);

  std::size_t max_;
  std::size_t taken_ = 0;  // bytes of `received` in heads already read (interim ones)
  ConnectAnswer answer_ = ConnectAnswer::NeedMore;
  int status_ = 0;
  std::string reason_;
  std::string error_;
};

}  // namespace chokepoint::http
