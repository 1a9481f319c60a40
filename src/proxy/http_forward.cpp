#include "http_forward.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <chokepoint/proxy/options.hpp>

#include "parent_proxy.hpp"

namespace chokepoint::proxy {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

constexpr std::size_t kBodyChunk = 16 * 1024;
// Not boost::none: Beast 1.74 compares `len_ > body_limit_` with
// boost::optional semantics, where every length exceeds an empty optional.
constexpr std::uint64_t kNoBodyLimit = std::numeric_limits<std::uint64_t>::max();
constexpr const char* kVia = "1.1 chokepoint";

// RFC 9110 7.6.1: hop-by-hop fields, the fields the Connection header names,
// and every Proxy-* field (credentials for us are never passed on).
template <class Fields>
void strip_hop_by_hop(Fields& fields) {
  std::vector<std::string> named;
  const auto connection = fields.equal_range(bhttp::field::connection);
  for (auto it = connection.first; it != connection.second; ++it) {
    for (const auto& token : bhttp::token_list(it->value()))
      named.emplace_back(token);
  }
  for (const auto& name : named)
    fields.erase(name);
  for (const auto f :
       {bhttp::field::connection, bhttp::field::keep_alive, bhttp::field::proxy_connection,
        bhttp::field::te, bhttp::field::trailer, bhttp::field::upgrade}) {
    fields.erase(f);
  }
  for (auto it = fields.begin(); it != fields.end();) {
    const auto name = it->name_string();
    const bool proxy = name.size() >= 6 && beast::iequals(name.substr(0, 6), "proxy-");
    it = proxy ? fields.erase(it) : std::next(it);
  }
}

template <class Fields>
void add_via(Fields& fields) {
  const auto existing = fields.find(bhttp::field::via);
  if (existing == fields.end()) {
    fields.set(bhttp::field::via, kVia);
  } else {
    fields.set(bhttp::field::via, std::string(existing->value()) + ", " + std::string(kVia));
  }
}

// One I/O operation under `deadline`: a timeout shows as beast's timeout.
template <class Operation>
asio::awaitable<std::size_t> bounded(Deadline& deadline, tcp::socket& socket,
                                     std::chrono::milliseconds after,
                                     const std::shared_ptr<const void>& owner, error_code& ec,
                                     Operation operation) {
  deadline.arm(after, socket, owner);
  const std::size_t n = co_await operation();
  deadline.disarm();
  if (deadline.expired()) ec = beast::error::timeout;
  co_return n;
}

}  // namespace

bool is_retryable(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == bhttp::error::end_of_stream;
}

ErrorResponse upstream_failure(const error_code& ec) {
  if (ec == beast::error::timeout)
    return {504, "connection_read_timeout", "the server did not answer in time"};
  if (ec == bhttp::error::header_limit)
    return {502, "http_response_header_size", "response head too large"};
  return {502, "http_protocol_error", "the server's response could not be read: " + ec.message()};
}

HttpForward::HttpForward(http::HeadParser&& head, const http::RequestTarget& target,
                         const ProxyOptions& options, UpstreamPool& pool,
                         std::shared_ptr<const void> owner, const UpstreamProxy* parent)
    : options_(options),
      pool_(pool),
      owner_(std::move(owner)),
      parser_(std::move(head)),
      has_body_(parser_.chunked() || parser_.content_length().value_or(0) > 0),
      client_keep_alive_(parser_.keep_alive()),
      chunk_(std::make_unique<char[]>(kBodyChunk)) {
  parser_.body_limit(kNoBodyLimit);  // bodies stream through; nothing is held
  auto& request = parser_.get();
  head_request_ = request.method() == bhttp::verb::head;
  strip_hop_by_hop(request);
  const std::string authority =
      target.port == 80
          ? (target.host.kind == HostKind::Ipv6 ? '[' + target.host.name + ']' : target.host.name)
          : format_authority(target.host, target.port);
  // A parent proxy gets the absolute form, built from what was decided on
  // (never the client's text), and our credentials for it: the client's
  // Proxy-* fields went with the hop-by-hop ones. Its connections carry
  // requests for every destination.
  const std::string credentials = parent ? parent_authorization(*parent) : std::string();
  request.target(parent ? "http://" + authority + target.origin_form : target.origin_form);
  if (!credentials.empty()) request.set(bhttp::field::proxy_authorization, credentials);
  pool_key_ = parent ? "parent " + parent->to_string() + ' ' + credentials
                     : target.host.name + ' ' + std::to_string(target.port);
  request.version(11);
  if (request.find(bhttp::field::host) == request.end()) request.set(bhttp::field::host, authority);
  add_via(request);
  request.keep_alive(true);
}

asio::awaitable<error_code> HttpForward::write_head(tcp::socket& upstream, Deadline& deadline) {
  writer_.emplace(parser_.get());
  error_code ec;
  head_bytes_ = co_await bounded(deadline, upstream, options_.idle_timeout, owner_, ec, [&] {
    return bhttp::async_write_header(upstream, *writer_, await_into(ec));
  });
  co_return ec;
}

asio::awaitable<SentHead> HttpForward::send_head(
    const std::function<asio::awaitable<Dialled>()>& connect, Deadline& deadline) {
  SentHead sent;
  if (auto pooled = pool_.take(pool_key_)) {
    sent.reused = net::format_endpoint(pooled->endpoint);
    upstream_.emplace(std::move(pooled->socket));
    sent.error = co_await write_head(*upstream_, deadline);
    if (!sent.error || has_body_ || !is_retryable(sent.error)) co_return sent;
    sent.reused.clear();
  }
  Dialled dialled = co_await connect();
  if (dialled.failure == audit::Reason::None) {
    upstream_.emplace(std::move(*dialled.socket));
    dialled.socket.reset();
    sent.error = co_await write_head(*upstream_, deadline);
  } else {
    upstream_.reset();
    sent.error = {};
  }
  sent.dialled = std::move(dialled);
  co_return sent;
}

void HttpForward::close_upstream() {
  error_code ignored;
  if (upstream_) upstream_->close(ignored);
}

asio::awaitable<ForwardResult> HttpForward::relay(ClientConnection& client,
                                                  Deadline& upstream_deadline) {
  tcp::socket& upstream = *upstream_;
  ForwardResult result;
  result.bytes_up = head_bytes_;
  const auto& owner = owner_;
  auto& request = parser_.get();
  char* const body = chunk_.get();
  error_code ec;

  // The request body, as the client sends it.
  while (!parser_.is_done() || !writer_->is_done()) {
    if (!parser_.is_done()) {
      request.body().data = body;
      request.body().size = kBodyChunk;
      co_await bounded(client.deadline, client.socket, options_.idle_timeout, owner, ec, [&] {
        return bhttp::async_read(client.socket, client.buffer, parser_, await_into(ec));
      });
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) break;
      request.body().size = kBodyChunk - request.body().size;
      request.body().data = body;
      request.body().more = !parser_.is_done();
    } else {
      request.body().data = nullptr;
      request.body().size = 0;
      request.body().more = false;
    }
    result.bytes_up +=
        co_await bounded(upstream_deadline, upstream, options_.idle_timeout, owner, ec,
                         [&] { return bhttp::async_write(upstream, *writer_, await_into(ec)); });
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) break;
  }

  // The response: interim 1xx answers are passed on, then the final one.
  std::optional<bhttp::response_parser<bhttp::buffer_body>> response_parser;
  while (!ec) {
    response_parser.emplace();
    response_parser->header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
    response_parser->body_limit(kNoBodyLimit);
    if (head_request_) response_parser->skip(true);
    beast::flat_buffer response_buffer;
    co_await bounded(upstream_deadline, upstream, options_.idle_timeout, owner, ec, [&] {
      return bhttp::async_read_header(upstream, response_buffer, *response_parser, await_into(ec));
    });
    if (ec) break;
    auto& response = response_parser->get();
    result.status = static_cast<int>(response.result_int());
    const bool interim = response.result_int() >= 100 && response.result_int() < 200;
    const bool server_keep_alive = response_parser->keep_alive();
    // A body that ends only when the server closes can only be passed on the same way.
    const bool delimited = response_parser->chunked() || response_parser->content_length() ||
                           head_request_ || response.result_int() == 204 ||
                           response.result_int() == 304 || interim;
    strip_hop_by_hop(response);
    add_via(response);
    response.keep_alive(!interim && client_keep_alive_ && delimited);
    response.version(11);
    bhttp::response_serializer<bhttp::buffer_body> response_writer{response};
    result.bytes_down += co_await bounded(
        client.deadline, client.socket, options_.idle_timeout, owner, ec,
        [&] { return bhttp::async_write_header(client.socket, response_writer, await_into(ec)); });
    result.answered = true;
    while (!ec && (!response_parser->is_done() || !response_writer.is_done())) {
      if (!response_parser->is_done()) {
        response.body().data = body;
        response.body().size = kBodyChunk;
        co_await bounded(upstream_deadline, upstream, options_.idle_timeout, owner, ec, [&] {
          return bhttp::async_read(upstream, response_buffer, *response_parser, await_into(ec));
        });
        if (ec == bhttp::error::need_buffer) ec = {};
        // A close-delimited body ends at EOF.
        if (ec == bhttp::error::end_of_stream || ec == asio::error::eof) ec = {};
        if (ec) break;
        response.body().size = kBodyChunk - response.body().size;
        response.body().data = body;
        response.body().more = !response_parser->is_done();
      } else {
        response.body().data = nullptr;
        response.body().size = 0;
        response.body().more = false;
      }
      result.bytes_down += co_await bounded(
          client.deadline, client.socket, options_.idle_timeout, owner, ec,
          [&] { return bhttp::async_write(client.socket, response_writer, await_into(ec)); });
      if (ec == bhttp::error::need_buffer) ec = {};
    }
    if (interim && response.result_int() != 101) continue;
    if (!ec) {
      result.reusable = server_keep_alive && delimited && response_buffer.size() == 0;
      result.keep_alive = response.keep_alive();
    }
    break;
  }
  result.error = ec;
  if (!ec && result.reusable) {
    error_code ignored;
    const auto endpoint = upstream.remote_endpoint(ignored);
    pool_.put(pool_key_, PooledConnection{std::move(upstream), endpoint});
  }
  co_return result;
}

}  // namespace chokepoint::proxy
