// The one way into Asio and Beast for every file of ours.
//
// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>; GCC 12 then fails to compile coroutines unless <utility> comes
// first. Including Asio only through this header keeps that true everywhere.
#pragma once

#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

namespace chokepoint {

namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

// Asio completion token that reports errors in `ec` instead of throwing:
// the data path never throws (STYLE.md 3.3).
inline auto await_into(error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

}  // namespace chokepoint
