// The admin endpoint (--admin, 127.0.0.1:9090 by default): health, readiness,
// Prometheus metrics, the running policy, open tunnels, and reloads. It runs
// on the control thread, never on an I/O thread.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chokepoint/proxy/control.hpp>

namespace chokepoint::proxy {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

constexpr std::chrono::seconds kAdminIdle{30};

bhttp::response<bhttp::string_body> answer(const bhttp::request<bhttp::string_body>& request,
                                           bhttp::status status, std::string body,
                                           std::string_view type = "text/plain; charset=utf-8") {
  bhttp::response<bhttp::string_body> response{status, request.version()};
  response.set(bhttp::field::content_type, beast::string_view(type.data(), type.size()));
  response.set(bhttp::field::cache_control, "no-store");
  response.body() = std::move(body);
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  return response;
}

asio::awaitable<bhttp::response<bhttp::string_body>> route(
    Controller& c, const bhttp::request<bhttp::string_body>& r) {
  const std::string_view target(r.target().data(), r.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  const bool get = r.method() == bhttp::verb::get || r.method() == bhttp::verb::head;
  if (path == "/reload") {
    if (r.method() != bhttp::verb::post) {
      auto response = answer(r, bhttp::status::method_not_allowed, "POST /reload\n");
      response.set(bhttp::field::allow, "POST");
      co_return response;
    }
    const auto outcome = c.reload("POST /reload");
    co_return answer(r, outcome.ok ? bhttp::status::ok : bhttp::status::unprocessable_entity,
                     outcome.message);
  }
  if (!get) co_return answer(r, bhttp::status::method_not_allowed, "GET only\n");
  if (path == "/healthz") co_return answer(r, bhttp::status::ok, "ok\n");
  if (path == "/readyz") {
    co_return c.ready() ? answer(r, bhttp::status::ok, "ready\n")
                        : answer(r, bhttp::status::service_unavailable, "draining\n");
  }
  if (path == "/metrics") {
    std::string text = co_await c.metrics_text();
    co_return answer(r, bhttp::status::ok, std::move(text),
                     "text/plain; version=0.0.4; charset=utf-8");
  }
  if (path == "/policy")
    co_return answer(r, bhttp::status::ok, c.policy_json(), "application/json");
  if (path == "/connections") {
    std::string json = co_await c.connections_json();
    co_return answer(r, bhttp::status::ok, std::move(json), "application/json");
  }
  co_return answer(r, bhttp::status::not_found,
                   "endpoints: /healthz /readyz /metrics /policy /connections, POST /reload\n");
}

asio::awaitable<void> serve(Controller& c, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  error_code ec;
  while (true) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024);
    stream.expires_after(kAdminIdle);
    co_await bhttp::async_read(stream, buffer, parser, await_into(ec));
    if (ec) break;
    const bhttp::request<bhttp::string_body> request = parser.release();
    auto response = co_await route(c, request);
    co_await bhttp::async_write(stream, response, await_into(ec));
    if (ec || !response.keep_alive()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace

void Controller::start_admin() {
  asio::co_spawn(
      io_,
      [this]() -> asio::awaitable<void> {
        while (admin_ && admin_->is_open()) {
          error_code ec;
          tcp::socket socket = co_await admin_->async_accept(await_into(ec));
          if (ec == asio::error::operation_aborted) co_return;
          if (!ec) {
            asio::co_spawn(io_, serve(*this, std::move(socket)), asio::detached);
            continue;
          }
          // Out of descriptors: back off rather than spin on accept.
          asio::steady_timer pause(io_, std::chrono::milliseconds(100));
          co_await pause.async_wait(await_into(ec));
        }
      },
      asio::detached);
}

}  // namespace chokepoint::proxy
