#include "http_request_reader.hpp"

#include <boost/beast/core/error.hpp>

#include <chokepoint/net/dialer.hpp>
#include <chokepoint/proxy/options.hpp>

namespace chokepoint::proxy {
namespace {

namespace bhttp = boost::beast::http;

bool has_body(const http::HeadParser& head) {
  return head.chunked() || head.content_length().value_or(0) > 0;
}

}  // namespace

asio::awaitable<Learned> HttpRequestReader::read_head(ClientConnection& client) {
  const bool first = std::exchange(first_, false);
  head_.emplace();
  http::HeadParser& parser = *head_;
  parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
  // Bodies stream through (http_forward.cpp); the head reader must not judge
  // their size. Not boost::none: Beast 1.74 compares `len_ > body_limit_`
  // with boost::optional semantics, where every length exceeds an empty one.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  // One deadline for the whole head, not per read; it keeps the socket, so
  // the client still gets its 408.
  client.arm(options_.head_timeout);
  error_code ec;
  std::string folded;
  std::size_t taken = 0;  // bytes of the buffer the parser has taken (http/head_reader.hpp)
  while (true) {
    if (client.buffer.size() > 0) {
      const auto step = http::feed_request_head(parser, client.unread(), taken);
      ec = step.ec;
      if (step.folded) folded = std::string(to_string(http::RequestError::ObsFold));
      if (!ec || step.folded) {
        client.buffer.consume(taken);
        if (!ec) break;
      }
      if (ec != bhttp::error::need_more) break;
      ec = {};
    }
    client.commit(co_await client.read_some(ec));
    if (client.deadline.expired()) ec = boost::beast::error::timeout;
    if (ec) break;
  }
  client.disarm();
  if (!ec) co_return Learned::destination();

  const bool nothing_read = client.buffer.size() == 0 && !parser.got_some();
  if (ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
    // The client went away between requests: nothing was asked, nothing to record.
    if (nothing_read) co_return Learned{};
    co_return Learned::refused(audit::Reason::ClientClosed,
                               "the client closed the connection in the middle of a request head",
                               Language::Silent);
  }
  if (ec == boost::beast::error::timeout) {
    if (nothing_read && !first) co_return Learned{};  // an idle keep-alive connection
    co_return Learned::refused(audit::Reason::RequestHeadTimeout,
                               "request head not complete within the timeout", Language::Http);
  }
  if (ec == bhttp::error::header_limit) {
    co_return Learned::refused(
        audit::Reason::HeaderTooLarge,
        "request head larger than " + std::to_string(options_.max_header_bytes) + " bytes",
        Language::Http);
  }
  co_return Learned::refused(audit::Reason::BadRequest, folded.empty() ? ec.message() : folded,
                             Language::Http);
}

Learned HttpRequestReader::learned(audit::Record& record, http::RequestError error) {
  const http::RequestHeader& header = head_->get().base();
  record.method = std::string(header.method_string());
  if (const auto host = header.find(bhttp::field::host); host != header.end())
    record.http_host = std::string(host->value());
  if (error != http::RequestError::None) {
    record.path = std::string(header.target());
    std::string detail(to_string(error));
    if (error == http::RequestError::BadAuthority)
      detail += ": " + std::string(to_string(target_.host_error));
    return Learned::refused(audit::Reason::BadRequest, std::move(detail), Language::Http);
  }
  Learned l = Learned::destination();
  l.language = Language::Http;
  l.host = target_.host;
  l.port = target_.port;
  l.tunnel = target_.connect;
  // After a refusal, another request may follow unless a body would have
  // to be skipped first.
  l.keep_alive = head_->keep_alive() && !has_body(*head_);
  record.host = target_.host.name;
  record.port = target_.port;
  if (target_.connect) {
    l.check_tunnel_hello = true;
  } else {
    record.path = target_.path;
    l.path = target_.path;
    l.http_head = &*head_;
    l.http_target = &target_;
  }
  return l;
}

std::optional<Learned> HttpRequestReader::auto_config(const http::RequestHeader& header) const {
  // Clients fetch the proxy's PAC file from the proxy itself, in
  // origin-form (Deep Security's `dsa_control --pacproxy`, browsers' WPAD).
  const bool get = header.method() == bhttp::verb::get;
  if (!get && header.method() != bhttp::verb::head) return std::nullopt;
  const std::string_view target(header.target().data(), header.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  if (path != "/proxy.pac" && path != "/wpad.dat") return std::nullopt;
  Learned l;
  l.outcome = Learned::Outcome::AutoConfig;
  l.language = Language::Http;
  l.keep_alive = head_->keep_alive();
  l.head_only = !get;
  if (const auto host = header.find(bhttp::field::host); host != header.end())
    l.pac_host = std::string(host->value());
  return l;
}

asio::awaitable<Learned> HttpRequestReader::next_proxy_request(ClientConnection& client,
                                                               audit::Record& record) {
  Learned read = co_await read_head(client);
  if (read.outcome != Learned::Outcome::Destination) co_return read;
  const http::RequestHeader& header = head_->get().base();
  if (auto pac = auto_config(header)) co_return std::move(*pac);
  target_ = http::RequestTarget{};
  const http::RequestError error = http::read_request_target(header, {}, target_);
  record.mode = target_.connect ? audit::Mode::Connect : audit::Mode::Http;
  Learned l = learned(record, error);
  if (l.outcome != Learned::Outcome::Destination) co_return l;
  const auto authorization = header.find(bhttp::field::proxy_authorization);
  l.authorization =
      authorization == header.end() ? std::string() : std::string(authorization->value());
  co_return l;
}

asio::awaitable<Learned> HttpRequestReader::next_origin_request(
    ClientConnection& client, audit::Record& record, std::uint16_t port,
    const std::optional<tcp::endpoint>& original) {
  Learned read = co_await read_head(client);
  if (read.outcome != Learned::Outcome::Destination) co_return read;
  const http::RequestHeader& header = head_->get().base();
  target_ = http::RequestTarget{};
  http::RequestError error = http::read_origin_request(header, {}, port, target_);
  if (error == http::RequestError::MissingHost && original) {
    // HTTP/1.0 without Host: the original destination is all there is.
    target_.host.address = net::to_ip(original->address()).unmapped();
    target_.host.kind = target_.host.address.is_v4() ? HostKind::Ipv4 : HostKind::Ipv6;
    target_.host.name = target_.host.address.to_string();
    error = http::RequestError::None;
  }
  Learned l = learned(record, error);
  l.original_destination = original;
  co_return l;
}

}  // namespace chokepoint::proxy
