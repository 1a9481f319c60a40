// The admin endpoint (--admin, 127.0.0.1:9090 by default): health,
// readiness, Prometheus metrics, the running policy, open tunnels, and
// reloads. It runs on the control thread, never on an I/O thread. It
// answers only requests for its own names, and POST only from its own
// origin (admin_hosts.hpp): 421 and 403 otherwise.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <chokepoint/core/asio.hpp>
#include <chokepoint/core/endpoint.hpp>
#include <chokepoint/net/accept_loop.hpp>

namespace chokepoint::control {

class AdminHosts;
class Controller;

class AdminEndpoint {
 public:
  AdminEndpoint(asio::io_context& io, Controller& controller);
  ~AdminEndpoint();

  // Binds `at`. A non-loopback address needs `allow_public`. When binding
  // fails, false with `error` if the operator asked for this address
  // (`required`), else a warning and no endpoint.
  bool bind(const Endpoint& at, bool allow_public, bool required, std::string& error);
  // The bound address (port 0 resolved), if any.
  std::optional<Endpoint> bound() const { return bound_; }
  // Serves until stop().
  void start();
  void stop();

 private:
  // An accept refused for want of descriptors: lets the waiting request in
  // on the spare descriptor. False when it could not (the loop backs off).
  bool accept_on_spare(const error_code& refused);
  asio::awaitable<void> serve_on_spare(tcp::socket socket);

  // A descriptor held in reserve (on /dev/null) for when the process has
  // none left: released to accept one admin request, taken back after it.
  class Spare {
   public:
    Spare();
    ~Spare();
    Spare(const Spare&) = delete;
    bool release();
    void retake();

   private:
    int fd_ = -1;
  };

  asio::io_context& io_;
  Controller& controller_;
  std::unique_ptr<const AdminHosts> hosts_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::unique_ptr<net::AcceptLoop> loop_;
  std::optional<Endpoint> bound_;
  Spare spare_;
};

}  // namespace chokepoint::control
