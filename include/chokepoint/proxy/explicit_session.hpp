// One client connection on an explicit-proxy listener (DESIGN.md, "Data
// flow"): read a request head -> identify the client -> learn the
// destination -> decide -> resolve, vet and dial -> answer -> relay (CONNECT)
// or forward (absolute-form, keep-alive, one decision per request). Every
// request that reaches a decision, and every refused one, leaves a record.
#pragma once

#include <memory>

#include <chokepoint/core/asio.hpp>
#include <chokepoint/proxy/worker.hpp>

namespace chokepoint::proxy {

// Starts serving `socket` on `worker`'s thread. `admitted` is the limits'
// verdict: anything but Ok is answered 503 (and recorded) instead.
void start_explicit_session(Worker& worker, tcp::socket socket, const tcp::endpoint& peer,
                            LimitVerdict admitted);

// Transparent and SNI listeners, plain HTTP: the same per-request handling,
// with the host from each request's Host header and the port from
// `original_dst` (transparent) or `port` (SNI listener, no original
// destination). `first_bytes` were already read from the client. The
// connection's limit slot passes to this session.
void start_transparent_http_session(Worker& worker, tcp::socket socket, const tcp::endpoint& peer,
                                    const std::optional<tcp::endpoint>& original_dst,
                                    std::uint16_t port, std::string first_bytes);

}  // namespace chokepoint::proxy
