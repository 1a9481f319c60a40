// Private to the proxy module: one HTTP/1 request head read from the
// client, under one deadline for the whole head, and its destination.
// Shared by the explicit proxy (CONNECT, absolute-form) and by plain HTTP
// found on transparent and SNI listeners (origin-form, the host from Host).
#pragma once

#include <optional>

#include "destination_source.hpp"

namespace chokepoint::proxy {

struct ProxyOptions;

class HttpRequestReader {
 public:
  explicit HttpRequestReader(const ProxyOptions& options) : options_(options) {}

  // Explicit proxy: CONNECT authority-form or an absolute-form request.
  asio::awaitable<Learned> next_proxy_request(ClientConnection& client, audit::Record& record);
  // Transparent and SNI listeners: origin-form, the host from Host, the
  // port given; without Host (HTTP/1.0), `original` decides, if known.
  asio::awaitable<Learned> next_origin_request(ClientConnection& client, audit::Record& record,
                                               std::uint16_t port,
                                               const std::optional<tcp::endpoint>& original);

 private:
  // Reads a head into head_: a Destination-shaped Learned (to be filled in)
  // when it is complete, else the refusal or Gone.
  asio::awaitable<Learned> read_head(ClientConnection& client);
  // GET or HEAD of /proxy.pac or /wpad.dat, else nothing.
  std::optional<Learned> auto_config(const http::RequestHeader& header) const;
  // The Learned of a complete head whose target was read with `error`.
  Learned learned(audit::Record& record, http::RequestError error);

  const ProxyOptions& options_;
  std::optional<http::HeadParser> head_;
  http::RequestTarget target_;
  bool first_ = true;
};

}  // namespace chokepoint::proxy
