// The control plane of a running proxy, on a thread of its own: signals,
// policy reloads, graceful drain, and the admin endpoint.
//
//   SIGHUP, POST /reload, or a change to a config file (inotify, which also
//   sees Kubernetes ConfigMaps swap their ..data symlink): load, validate
//   and compile the policy, and re-read the users file when proxy
//   authentication is on, then swap both in; open connections keep the
//   policy they were accepted under. A bad file changes nothing: the old
//   policy and users stay, every problem is logged as file:line:column, and
//   the failure is counted.
//   SIGTERM or SIGINT: stop accepting, let open connections finish for the
//   drain period, then end the rest (each still gets its close record). A
//   second SIGTERM or SIGINT ends them at once.
//   SIGUSR1: reopen the audit file (logrotate).
// Process settings (listeners, threads, sinks) are read at start-up only.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>

#include <chokepoint/audit/log.hpp>
#include <chokepoint/core/endpoint.hpp>
#include <chokepoint/policy/snapshot.hpp>
#include <chokepoint/proxy/server.hpp>

namespace chokepoint::proxy {

struct ControlOptions {
  std::string config_path;  // empty: the built-in catalog (reloads re-read nothing)
  std::string users_file;   // proxy authentication's users; empty: none
  std::chrono::milliseconds drain{30'000};
  std::optional<Endpoint> admin;  // the admin endpoint; nullopt: none
  bool admin_explicit = false;    // the operator asked for it: failing to bind is fatal
  bool admin_public = false;      // allow a non-loopback admin address
  bool watch_files = true;        // reload when a config file changes
};

struct PolicyInfo {
  std::string source;
  std::string sha256;  // of the text of every file the policy was loaded from
  std::chrono::system_clock::time_point loaded_at;
  std::size_t rules = 0;
  std::uint64_t generation = 1;
};

class Controller {
 public:
  Controller(Server& server, audit::AuditLog& audit, ControlOptions options,
             std::shared_ptr<const policy::Snapshot> snapshot);
  ~Controller();

  // Binds the admin endpoint and sets up signals and file watches (start-up).
  bool start(std::string& error);
  // The admin endpoint's address once bound (port 0 resolved), if any.
  std::optional<Endpoint> admin_endpoint() const { return admin_bound_; }
  // Runs until the proxy has stopped (drained or told to stop).
  void run();

  struct ReloadOutcome {
    bool ok = false;
    std::string message;  // the diagnostics, one per line, or what was loaded
  };
  ReloadOutcome reload(std::string_view why);

  // For the admin endpoint.
  bool ready() const { return !draining_; }
  std::string policy_json() const;
  asio::awaitable<std::string> metrics_text();
  asio::awaitable<std::string> connections_json();

 private:
  void wait_signal();
  void begin_drain();
  void check_drained();
  void finish();
  bool watch(std::string& error);
  void read_watch_events();
  void start_admin();

  Server& server_;
  audit::AuditLog& audit_;
  ControlOptions options_;
  asio::io_context io_{1};
  asio::signal_set signals_{io_, SIGINT, SIGTERM, SIGHUP};  // and SIGUSR1
  asio::steady_timer drain_timer_{io_};
  asio::steady_timer reload_debounce_{io_};
  std::unique_ptr<asio::posix::stream_descriptor> inotify_;
  std::unique_ptr<tcp::acceptor> admin_;
  std::optional<Endpoint> admin_bound_;
  std::chrono::steady_clock::time_point drain_deadline_;
  bool draining_ = false;
  bool stopping_ = false;
  PolicyInfo policy_;
  std::vector<std::string> files_;       // the files the policy was loaded from: watched
  std::set<std::string> watched_names_;  // their names, in the watched directories
  std::uint64_t reloads_ = 0;
  std::uint64_t reload_failures_ = 0;
};

// The sha256 of the text a policy was loaded from (every file, in order).
std::string policy_digest(const policy::Policy& policy);

}  // namespace chokepoint::proxy
