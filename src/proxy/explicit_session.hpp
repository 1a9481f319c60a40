// Private to the proxy module: the session class behind start_explicit_session,
// split over explicit_session.cpp (heads, CONNECT) and http_forward.cpp.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/http/head_reader.hpp>
#include <chokepoint/http/request_target.hpp>
#include <chokepoint/proxy/error_response.hpp>
#include <chokepoint/proxy/explicit_session.hpp>

#include "deadline.hpp"

namespace chokepoint::proxy {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

class ExplicitSession : public LiveSession, public std::enable_shared_from_this<ExplicitSession> {
 public:
  ExplicitSession(Worker& worker, tcp::socket socket, const tcp::endpoint& peer,
                  LimitVerdict admitted);
  asio::awaitable<void> run();
  void cancel() override;
  // Transparent plain HTTP: see start_transparent_http_session.
  void become_transparent(const std::optional<tcp::endpoint>& original_dst, std::uint16_t port,
                          std::string_view first_bytes);

 private:
  // Answers 503 to a connection over a limit.
  asio::awaitable<void> refuse_over_limit();
  // One request; false when the connection is finished.
  asio::awaitable<bool> serve_one();
  // Reads a head into `parser`; on failure answers the client, writes the
  // record and returns false.
  asio::awaitable<bool> read_head(bhttp::request_parser<bhttp::empty_body>& parser,
                                  audit::Record& record, Clock::time_point started, bool first);
  // Proxy-Authorization; on failure answers 407 and returns false.
  asio::awaitable<bool> authenticate(const http::RequestHeader& header, audit::Record& record,
                                     Clock::time_point started, bool& keep_alive);
  asio::awaitable<void> tunnel(http::RequestTarget& target, audit::Record record,
                               Clock::time_point started);
  asio::awaitable<bool> forward(bhttp::request_parser<bhttp::empty_body>& parser,
                                http::RequestTarget& target, audit::Record record,
                                Clock::time_point started);

  // Resolves, vets and connects; on failure answers the client and records why.
  asio::awaitable<std::optional<tcp::socket>> dial(const Host& host, std::uint16_t port,
                                                   audit::Record& record, Clock::time_point started,
                                                   bool keep_alive);
  // Sends `response` and records `event`.
  asio::awaitable<void> refuse(const ErrorResponse& response, audit::Record& record,
                               audit::Event event, Clock::time_point started);
  // Inside an allowed tunnel: reads the client's first bytes (early data
  // included) and refuses a ClientHello that names another host not itself
  // allowed (domain fronting), a malformed or oversized one, ECH when denied,
  // and a hello that stalls. Writes the deny and close records when it refuses.
  asio::awaitable<bool> check_tunnel_hello(const http::RequestTarget& target, tcp::socket& upstream,
                                           audit::Record& record, Clock::time_point started);

  LimitVerdict admitted_;
  Worker& worker_;
  beast::tcp_stream stream_;
  Deadline deadline_;
  beast::flat_buffer buffer_;
  std::shared_ptr<const policy::Snapshot> snapshot_;  // pinned at accept
  IpAddress client_ip_;
  std::string client_;
  std::string user_;
  policy::ClientIdentity identity_;
  bool identified_ = false;
  bool cancelled_ = false;
  bool handed_off_ = false;  // the connection now belongs to a relay::Tunnel
  bool server_spoke_ = false;
  std::optional<tcp::endpoint> original_dst_;  // transparent plain HTTP: where the client was going
  std::uint16_t origin_port_ = 0;    // transparent and SNI listeners: the port requests go to
  tcp::socket* upstream_ = nullptr;  // while forwarding, for cancel()
};

}  // namespace chokepoint::proxy
