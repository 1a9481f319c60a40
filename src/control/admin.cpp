#include "admin.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chokepoint/control/controller.hpp>
#include <chokepoint/log/log.hpp>
#include <chokepoint/net/dialer.hpp>

#include "admin_hosts.hpp"

namespace chokepoint::control {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

constexpr std::chrono::seconds kAdminIdle{30};
constexpr int kAdminBacklog = 64;

std::string machine_name() {
  char name[256] = {};
  return ::gethostname(name, sizeof name - 1) == 0 ? std::string(name) : std::string();
}

bool is_loopback(const Endpoint& at) {
  return at.address.is_v4() ? (at.address.bytes()[0] == 127) : at.address.to_string() == "::1";
}

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

std::optional<std::string_view> header(const bhttp::request<bhttp::string_body>& r,
                                       bhttp::field field) {
  const auto it = r.find(field);
  if (it == r.end()) return std::nullopt;
  return std::string_view(it->value().data(), it->value().size());
}

asio::awaitable<bhttp::response<bhttp::string_body>> route(
    Controller& c, const AdminHosts& hosts, const IpAddress& local,
    const bhttp::request<bhttp::string_body>& r) {
  const std::string_view target(r.target().data(), r.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  const bool get = r.method() == bhttp::verb::get || r.method() == bhttp::verb::head;
  // Before anything else, for every page: a rebound name must learn nothing.
  if (!hosts.own(header(r, bhttp::field::host), local)) {
    co_return answer(r, bhttp::status::misdirected_request,
                     "this admin endpoint answers only requests for its own names and addresses "
                     "(localhost, the address it listens on, the machine's host name)\n");
  }
  if (path == "/reload") {
    if (r.method() != bhttp::verb::post) {
      auto response = answer(r, bhttp::status::method_not_allowed, "POST /reload\n");
      response.set(bhttp::field::allow, "POST");
      co_return response;
    }
    if (!AdminHosts::same_origin(header(r, bhttp::field::origin), header(r, bhttp::field::host)))
      co_return answer(r, bhttp::status::forbidden, "POST from another origin refused\n");
    const auto outcome = c.reload("POST /reload");
    co_return answer(r, outcome.ok ? bhttp::status::ok : bhttp::status::unprocessable_entity,
                     outcome.message);
  }
  if (!get) co_return answer(r, bhttp::status::method_not_allowed, "GET only\n");
  if (path == "/healthz") co_return answer(r, bhttp::status::ok, "ok\n");
  if (path == "/readyz") {
    const std::string why = c.not_ready();
    if (why.empty()) co_return answer(r, bhttp::status::ok, "ready\n");
    co_return answer(r, bhttp::status::service_unavailable, why + "\n");
  }
  if (path == "/") {
    auto response =
        answer(r, bhttp::status::ok, co_await c.status_html(), "text/html; charset=utf-8");
    // Hostile names end up on this page: even if one slipped past the
    // escaping, no script, style or frame of theirs would run.
    response.set("Content-Security-Policy",
                 "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
                 "form-action 'none'; base-uri 'none'");
    response.set("X-Content-Type-Options", "nosniff");
    co_return response;
  }
  if (path == "/dns") co_return answer(r, bhttp::status::ok, c.dns_json(), "application/json");
  if (path == "/inventory")
    co_return answer(r, bhttp::status::ok, c.inventory_json(), "application/json");
  if (path == "/probe") co_return answer(r, bhttp::status::ok, c.probe_json(), "application/json");
  if (path == "/metrics") {
    std::string text = co_await c.metrics_text();
    co_return answer(r, bhttp::status::ok, std::move(text),
                     "text/plain; version=0.0.4; charset=utf-8");
  }
  if (path == "/policy")
    co_return answer(r, bhttp::status::ok, c.policy_json(), "application/json");
  if (path == "/proxy.pac" || path == "/wpad.dat") {
    auto file = c.auto_config(header(r, bhttp::field::host).value_or(std::string_view()));
    if (!file) {
      co_return answer(r, bhttp::status::not_found,
                       "no explicit listener (and no pac.proxy) for a PAC file to name\n");
    }
    co_return answer(r, bhttp::status::ok, std::move(*file), "application/x-ns-proxy-autoconfig");
  }
  if (path == "/connections") {
    std::string json = co_await c.connections_json();
    co_return answer(r, bhttp::status::ok, std::move(json), "application/json");
  }
  co_return answer(r, bhttp::status::not_found,
                   "endpoints: / /healthz /readyz /metrics /policy /connections /dns /inventory "
                   "/probe /proxy.pac, "
                   "POST /reload\n");
}

asio::awaitable<void> serve(Controller& c, const AdminHosts& hosts, tcp::socket socket) {
  error_code ec;
  const IpAddress local = net::to_ip(socket.local_endpoint(ec).address());
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  while (true) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024);
    stream.expires_after(kAdminIdle);
    co_await bhttp::async_read(stream, buffer, parser, await_into(ec));
    if (ec) break;
    const bhttp::request<bhttp::string_body> request = parser.release();
    auto response = co_await route(c, hosts, local, request);
    co_await bhttp::async_write(stream, response, await_into(ec));
    if (ec || !response.keep_alive()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace

AdminEndpoint::AdminEndpoint(asio::io_context& io, Controller& controller)
    : io_(io), controller_(controller), hosts_(std::make_unique<AdminHosts>(machine_name())) {}

AdminEndpoint::~AdminEndpoint() = default;

bool AdminEndpoint::bind(const Endpoint& at, bool allow_public, bool required, std::string& error) {
  if (!is_loopback(at) && !allow_public) {
    error = "the admin endpoint " + at.to_string() +
            " is not a loopback address; pass --admin-public (admin_public: true) to mean it";
    return false;
  }
  acceptor_ = std::make_unique<tcp::acceptor>(io_);
  error_code ec;
  const auto endpoint = net::to_endpoint(at.address, at.port);
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(kAdminBacklog, ec);
  if (ec) {
    acceptor_.reset();
    if (required) {
      error = "cannot listen on " + at.to_string() + " (admin): " + ec.message();
      return false;
    }
    log::Message(log::Level::Warning)
        << "admin endpoint not started: " << at.to_string() << ": " << ec.message();
    return true;
  }
  bound_ = Endpoint{at.address, acceptor_->local_endpoint(ec).port()};
  return true;
}

void AdminEndpoint::start() {
  if (!acceptor_) return;
  loop_ = std::make_unique<net::AcceptLoop>(
      *acceptor_,
      [this](tcp::socket socket, const tcp::endpoint&) {
        // A worker's accept may have taken the descriptor the spare gave
        // back: descriptors are free again now, so hold one for the next
        // exhaustion.
        spare_.retake();
        asio::co_spawn(io_, serve(controller_, *hosts_, std::move(socket)), asio::detached);
      },
      [this](const error_code& ec) { return accept_on_spare(ec); });
  loop_->start();
}

void AdminEndpoint::stop() {
  if (!acceptor_) return;
  error_code ignored;
  acceptor_->close(ignored);
}

bool AdminEndpoint::accept_on_spare(const error_code& refused) {
  if ((refused != asio::error::no_descriptors && refused.value() != ENFILE) || !spare_.release())
    return false;
  // Out of descriptors: the spare one lets this probe in, so /healthz stays
  // truthful (alive) and /readyz can say why it is not ready.
  error_code ec;
  tcp::socket socket = acceptor_->accept(ec);
  if (ec) {
    spare_.retake();
    return false;
  }
  asio::co_spawn(io_, serve_on_spare(std::move(socket)), asio::detached);
  return true;
}

asio::awaitable<void> AdminEndpoint::serve_on_spare(tcp::socket socket) {
  co_await serve(controller_, *hosts_, std::move(socket));
  // The probe's socket is closed by now: its descriptor goes back to the spare.
  spare_.retake();
}

AdminEndpoint::Spare::Spare() {
  retake();
}

AdminEndpoint::Spare::~Spare() {
  if (fd_ >= 0) ::close(fd_);
}

bool AdminEndpoint::Spare::release() {
  if (fd_ < 0) return false;
  ::close(fd_);
  fd_ = -1;
  return true;
}

void AdminEndpoint::Spare::retake() {
  if (fd_ < 0) fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

}  // namespace chokepoint::control
