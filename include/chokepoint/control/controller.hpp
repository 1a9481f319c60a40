// The control plane of a running proxy, on a thread of its own: signals,
// policy reloads, file watches, graceful drain, and the admin endpoint. It
// drives the data plane only through proxy::Server's public interface.
//
//   SIGHUP, POST /reload, or a change to a config file (inotify, which also
//   sees Kubernetes ConfigMaps swap their ..data symlink): the reload
//   transaction of control/reload.hpp. Open connections keep the policy they
//   were accepted under. A bad file changes nothing: the old policy and users
//   stay, every problem is logged as file:line:column, and the failure is
//   counted.
//   SIGTERM or SIGINT: stop accepting, let open connections finish for the
//   drain period, then end the rest (each still gets its close record). A
//   second SIGTERM or SIGINT ends them at once.
//   SIGUSR1: reopen the audit file (logrotate).
// With an inventory section, the manager's computer list is refreshed on a
// thread of its own (inventory/refresher.hpp) and each good one swapped
// into the workers; a reload that changes the section starts it afresh.
// With --probe-interval, every destination of the running policy is probed
// in the background on a thread of its own (probe/watcher.hpp); a reload
// hands it the new policy, whose destinations the next round probes.
// Process settings (listeners, threads, sinks) are read at start-up only.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/signal_set.hpp>

#include <chokepoint/audit/log.hpp>
#include <chokepoint/config/settings.hpp>
#include <chokepoint/control/reload.hpp>
#include <chokepoint/core/endpoint.hpp>
#include <chokepoint/inventory/refresher.hpp>
#include <chokepoint/probe/watcher.hpp>
#include <chokepoint/proxy/server.hpp>

namespace chokepoint::control {

class AdminEndpoint;
class FileWatch;
struct InventoryPage;
struct ProbePage;

struct ControlOptions {
  std::string config_path;  // empty: the built-in catalog (reloads re-read nothing)
  std::string users_file;   // proxy authentication's users; empty: none
  std::chrono::milliseconds drain{30'000};
  std::optional<Endpoint> admin;  // the admin endpoint; nullopt: none
  bool admin_explicit = false;    // the operator asked for it: failing to bind is fatal
  bool admin_public = false;      // allow a non-loopback admin address
  bool watch_files = true;        // reload when a config file changes
  bool audit_refuse = false;  // --audit-on-failure refuse: not ready while the audit cannot write
  probe::WatchOptions probe;  // interval 0: no background probes
  // What the background probes dial with (the run's resolver, timeouts,
  // --connect-to and parent proxy), and the audit queue their records go
  // to: one of their own, after the I/O threads'.
  proxy::ProxyOptions proxy;
  int audit_producer = 0;

  // From the resolved settings and the --config path.
  static ControlOptions from(const config::Settings& settings, std::string config_path);
};

class Controller {
 public:
  // `running`: the policy the server was started with.
  Controller(proxy::Server& server, audit::AuditLog& audit, ControlOptions options,
             RunningPolicy running);
  ~Controller();

  // Binds the admin endpoint, sets up signals and file watches, and starts
  // the inventory's refreshes (start-up).
  bool start(std::string& error);
  // The admin endpoint's address once bound (port 0 resolved), if any.
  std::optional<Endpoint> admin_endpoint() const;
  // Runs until the proxy has stopped (drained or told to stop).
  void run();

  // The reload transaction, logged; on the control thread.
  ReloadOutcome reload(std::string_view why);

  // For the admin endpoint.
  // Not while draining, nor while the kernel refuses accepts (out of
  // descriptors), nor, failing closed, while the audit log cannot write: a
  // balancer should send new clients elsewhere.
  bool ready() const { return not_ready().empty(); }
  // Why not ready ("draining", ...); empty when ready.
  std::string not_ready() const;
  bool draining() const { return draining_; }
  std::string policy_json() const;
  // The PAC file of the running policy, naming the explicit listener by the
  // host the client reached the admin endpoint with (`host_header`), or
  // `pac.proxy`; nothing when there is no explicit listener to name.
  std::optional<std::string> auto_config(std::string_view host_header) const;
  asio::awaitable<std::string> metrics_text();
  asio::awaitable<std::string> connections_json();
  // The status page (GET /), HTML.
  asio::awaitable<std::string> status_html();
  // The DNS cache's names (GET /dns), the most looked-up first.
  std::string dns_json() const;
  // The inventory's refreshes and the map in use (GET /inventory).
  std::string inventory_json() const;
  // What the background probes found last (GET /probe).
  std::string probe_json() const;

 private:
  void wait_signal();
  void begin_drain();
  void finish();
  // Starts, restarts or stops the refresher for the running policy's
  // inventory section (nothing when it is unchanged).
  void follow_inventory();
  InventoryPage inventory_page() const;
  ProbePage probe_page() const;

  proxy::Server& server_;
  audit::AuditLog& audit_;
  ControlOptions options_;
  asio::io_context io_{1};
  asio::signal_set signals_{io_, SIGINT, SIGTERM, SIGHUP};  // and SIGUSR1
  asio::steady_timer drain_timer_{io_};
  std::unique_ptr<FileWatch> watch_;
  std::unique_ptr<AdminEndpoint> admin_;
  bool draining_ = false;
  bool stopping_ = false;
  RunningPolicy running_;
  struct LastReloadState;
  std::unique_ptr<LastReloadState> last_reload_;
  std::unique_ptr<inventory::Refresher> refresher_;
  std::unique_ptr<probe::Watcher> watcher_;
};

}  // namespace chokepoint::control
