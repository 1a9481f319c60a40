#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <sys/inotify.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <chokepoint/auth/password_hash.hpp>
#include <chokepoint/core/json.hpp>
#include <chokepoint/proxy/control.hpp>

namespace chokepoint::proxy {
namespace {

constexpr std::chrono::milliseconds kDrainPoll{100};
constexpr std::chrono::milliseconds kReloadDebounce{250};

std::string read_text(const std::string& path) {
  if (path == policy::kBuiltinCatalogName) return std::string(policy::builtin_catalog_text());
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string policy_digest(const policy::Policy& policy) {
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                    &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  for (const auto& file : policy.files) {
    const std::string text = read_text(file);
    EVP_DigestUpdate(ctx.get(), text.data(), text.size());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  return hex(digest, length);
}

Controller::Controller(Server& server, audit::AuditLog& audit, ControlOptions options,
                       std::shared_ptr<const policy::Snapshot> snapshot)
    : server_(server), audit_(audit), options_(std::move(options)) {
  signals_.add(SIGUSR1);
  policy_.source = options_.config_path.empty() ? std::string(policy::kBuiltinCatalogName)
                                                : options_.config_path;
  policy_.sha256 = policy_digest(snapshot->policy());
  policy_.loaded_at = std::chrono::system_clock::now();
  policy_.rules = snapshot->policy().rules.size();
  files_ = snapshot->policy().files;
}

Controller::~Controller() = default;

bool Controller::start(std::string& error) {
  if (options_.admin) {
    const Endpoint& at = *options_.admin;
    const bool loopback =
        at.address.is_v4() ? (at.address.bytes()[0] == 127) : at.address.to_string() == "::1";
    if (!loopback && !options_.admin_public) {
      error = "the admin endpoint " + at.to_string() +
              " is not a loopback address; pass --admin-public (admin_public: true) to mean it";
      return false;
    }
    admin_ = std::make_unique<tcp::acceptor>(io_);
    error_code ec;
    const auto endpoint = net::to_endpoint(at.address, at.port);
    admin_->open(endpoint.protocol(), ec);
    if (!ec) admin_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) admin_->bind(endpoint, ec);
    if (!ec) admin_->listen(64, ec);
    if (ec) {
      admin_.reset();
      if (options_.admin_explicit) {
        error = "cannot listen on " + at.to_string() + " (admin): " + ec.message();
        return false;
      }
      std::cerr << "chokepoint: admin endpoint not started: " << at.to_string() << ": "
                << ec.message() << '\n';
    } else {
      admin_bound_ = Endpoint{at.address, admin_->local_endpoint(ec).port()};
    }
  }
  const bool files_to_watch = !options_.config_path.empty() || !options_.users_file.empty();
  if (options_.watch_files && files_to_watch && !watch(error)) return false;
  return true;
}

void Controller::run() {
  wait_signal();
  if (admin_) start_admin();
  io_.run();
}

void Controller::wait_signal() {
  signals_.async_wait([this](const error_code& ec, int signal) {
    if (ec) return;
    switch (signal) {
      case SIGHUP:
        reload("SIGHUP");
        break;
      case SIGUSR1:
        audit_.reopen();
        break;
      default:
        if (draining_) {
          std::cerr << "chokepoint: stopping now (second "
                    << (signal == SIGTERM ? "SIGTERM" : "SIGINT") << ")" << std::endl;
          finish();
          return;
        }
        std::cerr << "chokepoint: draining for up to "
                  << std::chrono::duration_cast<std::chrono::seconds>(options_.drain).count()
                  << " s (" << (signal == SIGTERM ? "SIGTERM" : "SIGINT")
                  << "; again to stop at once)" << std::endl;
        begin_drain();
    }
    wait_signal();
  });
}

void Controller::begin_drain() {
  draining_ = true;
  server_.stop_accepting();
  drain_deadline_ = std::chrono::steady_clock::now() + options_.drain;
  check_drained();
}

void Controller::check_drained() {
  if (stopping_) return;
  asio::co_spawn(
      io_,
      [this]() -> asio::awaitable<void> {
        const auto counts =
            co_await server_.ask_workers([](Worker& w) { return w.live_connections(); });
        std::size_t live = 0;
        for (const auto n : counts)
          live += n;
        if (live == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
          if (live > 0)
            std::cerr << "chokepoint: drain period over; ending " << live << " connections"
                      << std::endl;
          finish();
          co_return;
        }
        drain_timer_.expires_after(kDrainPoll);
        error_code ignored;
        co_await drain_timer_.async_wait(await_into(ignored));
        check_drained();
      },
      asio::detached);
}

void Controller::finish() {
  if (stopping_) return;
  stopping_ = true;
  // Server::stop ends what is left (each with its record) and joins the workers.
  server_.stop();
  signals_.cancel();
  drain_timer_.cancel();
  reload_debounce_.cancel();
  if (inotify_) inotify_->close();
  if (admin_) {
    error_code ignored;
    admin_->close(ignored);
  }
  io_.stop();
}

Controller::ReloadOutcome Controller::reload(std::string_view why) {
  ReloadOutcome outcome;
  auto loaded = options_.config_path.empty() ? policy::load_builtin_config()
                                             : policy::load_config_file(options_.config_path);
  std::ostringstream problems;
  for (const auto& d : loaded.diagnostics())
    problems << d.to_string() << '\n';
  std::shared_ptr<const policy::Snapshot> snapshot;
  if (loaded) {
    auto built = policy::Snapshot::build(std::move(loaded).value());
    for (const auto& d : built.diagnostics())
      problems << d.to_string() << '\n';
    if (built) snapshot = built.value();
  }
  // Users and policy go together: a user's role comes from the policy.
  std::optional<std::map<std::string, auth::PasswordHash>> users;
  auth::Authenticator* const authenticator = server_.authenticator();
  if (authenticator && !options_.users_file.empty()) {
    auto read = auth::load_users(options_.users_file);
    for (const auto& d : read.diagnostics())
      problems << d.to_string() << '\n';
    if (read) users = std::move(read).value();
  }
  if (!snapshot || (authenticator && !options_.users_file.empty() && !users)) {
    ++reload_failures_;
    outcome.message = problems.str();
    std::cerr << "chokepoint: reload (" << why << ") refused; the running policy stays:\n"
              << outcome.message;
    return outcome;
  }
  const std::string digest = policy_digest(snapshot->policy());
  server_.replace_policy(snapshot);
  std::string users_note;
  if (users) {
    users_note = ", " + std::to_string(users->size()) + " users from " + options_.users_file;
    authenticator->replace_users(std::move(*users));
  }
  ++reloads_;
  policy_.sha256 = digest;
  policy_.loaded_at = std::chrono::system_clock::now();
  policy_.rules = snapshot->policy().rules.size();
  ++policy_.generation;
  outcome.ok = true;
  outcome.message = problems.str() + "loaded " + policy_.source + " (" +
                    std::to_string(policy_.rules) + " rules, sha256 " + digest.substr(0, 12) + ")" +
                    users_note + "\n";
  std::cerr << "chokepoint: reload (" << why << "): " << outcome.message << std::flush;
  return outcome;
}

bool Controller::watch(std::string& error) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    error = "inotify: " + std::string(std::strerror(errno));
    return false;
  }
  // Watch the directories: editors and ConfigMaps replace files (rename,
  // symlink swap) rather than write them in place.
  std::set<std::string> directories;
  std::vector<std::string> files = files_;
  if (!options_.users_file.empty()) files.push_back(options_.users_file);
  for (const auto& file : files) {
    if (file == policy::kBuiltinCatalogName) continue;
    const auto path = std::filesystem::absolute(file);
    directories.insert(path.parent_path().string());
    watched_names_.insert(path.filename().string());
  }
  // A ConfigMap volume updates by renaming a new `..data` symlink into place.
  watched_names_.insert("..data");
  for (const auto& directory : directories) {
    if (::inotify_add_watch(fd, directory.c_str(),
                            IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB) < 0) {
      std::cerr << "chokepoint: cannot watch " << directory << ": " << std::strerror(errno)
                << "; reload with SIGHUP or POST /reload\n";
    }
  }
  inotify_ = std::make_unique<asio::posix::stream_descriptor>(io_, fd);
  read_watch_events();
  return true;
}

void Controller::read_watch_events() {
  inotify_->async_wait(asio::posix::stream_descriptor::wait_read, [this](const error_code& ec) {
    if (ec) return;
    // Only our files count: other files in the same directory (an audit log
    // beside the policy, editors' swap files) must not cause reloads.
    alignas(inotify_event) char events[4096];
    bool ours = false;
    ssize_t n = 0;
    while ((n = ::read(inotify_->native_handle(), events, sizeof events)) > 0) {
      for (ssize_t at = 0; at < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(events + at);
        if (event->len > 0 && watched_names_.count(event->name) > 0) ours = true;
        at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      }
    }
    if (ours) {
      // Changes come in bursts (a write, then a rename): reload once they settle.
      reload_debounce_.expires_after(kReloadDebounce);
      reload_debounce_.async_wait([this](const error_code& timer_ec) {
        if (!timer_ec) reload("a config file changed");
      });
    }
    read_watch_events();
  });
}

std::string Controller::policy_json() const {
  std::string out;
  JsonObject json(out);
  json.field("source", policy_.source)
      .field("sha256", policy_.sha256)
      .field("loaded_at", audit::format_timestamp(policy_.loaded_at))
      .field("rules", std::uint64_t{policy_.rules})
      .field("generation", policy_.generation)
      .field("reloads", reloads_)
      .field("reload_failures", reload_failures_);
  json.close();
  return out + "\n";
}

asio::awaitable<std::string> Controller::connections_json() {
  const auto lists = co_await server_.ask_workers([](Worker& w) { return w.connections(); });
  std::string out = "[";
  bool first = true;
  for (const auto& list : lists) {
    for (const auto& item : list) {
      if (!first) out += ",\n";
      first = false;
      out += item;
    }
  }
  co_return out + "]\n";
}

asio::awaitable<std::string> Controller::metrics_text() {
  const auto parts = co_await server_.ask_workers([](Worker& w) { return w.metrics(); });
  Metrics m;
  for (const auto& part : parts)
    m.add(part);
  std::string out;
  write_counter(out, "chokepoint_decisions_total",
                "Policy decisions by outcome, role, rule and service.", m.decisions,
                "decision,role,rule,service");
  write_counter(out, "chokepoint_audit_events_total", "Audit records by event.", m.records,
                "event");
  write_counter(
      out, "chokepoint_refusals_total",
      "Denied or failed connections by reason (policy, parse failures, timeouts, upstream errors).",
      m.refusals, "reason");
  write_counter(out, "chokepoint_bytes_total",
                "Bytes relayed, by direction (up: client to destination).",
                {{"up", m.bytes_up}, {"down", m.bytes_down}}, "direction");
  out +=
      "# HELP chokepoint_open_tunnels Tunnels relaying now.\n# TYPE chokepoint_open_tunnels "
      "gauge\n";
  out += "chokepoint_open_tunnels " + std::to_string(m.open_tunnels) + "\n";
  out +=
      "# HELP chokepoint_handshakes Connections reading a request head or ClientHello, or "
      "dialing.\n"
      "# TYPE chokepoint_handshakes gauge\n";
  out += "chokepoint_handshakes " + std::to_string(m.handshakes) + "\n";
  out +=
      "# HELP chokepoint_buffer_bytes Relay buffer memory held by tunnels (pipes and copy "
      "buffers).\n"
      "# TYPE chokepoint_buffer_bytes gauge\nchokepoint_buffer_bytes " +
      std::to_string(server_.buffers().used()) + "\n";
  if (server_.buffers().limit() != 0) {
    out +=
        "# HELP chokepoint_buffer_limit_bytes The relay buffer budget (--max-buffer-memory).\n"
        "# TYPE chokepoint_buffer_limit_bytes gauge\nchokepoint_buffer_limit_bytes " +
        std::to_string(server_.buffers().limit()) + "\n";
  }
  write_histogram(out, "chokepoint_dns_seconds", "Time to resolve a destination name.", m.dns);
  write_histogram(out, "chokepoint_connect_seconds", "Time to connect to the destination.",
                  m.connect);
  std::map<std::string, std::uint64_t> written;
  std::map<std::string, std::uint64_t> lost;
  for (const auto& sink : audit_.sinks()) {
    written[sink.name] = sink.stats.written;
    lost[sink.name] = sink.stats.lost;
  }
  write_counter(out, "chokepoint_audit_records_written_total", "Audit records delivered, by sink.",
                written, "sink");
  write_counter(out, "chokepoint_audit_records_lost_total",
                "Audit records a sink could not deliver.", lost, "sink");
  out +=
      "# HELP chokepoint_audit_records_dropped_total Audit records refused by a full queue.\n"
      "# TYPE chokepoint_audit_records_dropped_total counter\n";
  out += "chokepoint_audit_records_dropped_total " + std::to_string(audit_.dropped()) + "\n";
  out +=
      "# HELP chokepoint_policy_reloads_total Policy reloads that took effect.\n"
      "# TYPE chokepoint_policy_reloads_total counter\nchokepoint_policy_reloads_total " +
      std::to_string(reloads_) + "\n";
  out +=
      "# HELP chokepoint_policy_reload_failures_total Policy reloads refused (the old policy "
      "stayed).\n"
      "# TYPE chokepoint_policy_reload_failures_total "
      "counter\nchokepoint_policy_reload_failures_total " +
      std::to_string(reload_failures_) + "\n";
  out +=
      "# HELP chokepoint_policy_rules Rules in the running policy.\n# TYPE chokepoint_policy_rules "
      "gauge\n"
      "chokepoint_policy_rules " +
      std::to_string(policy_.rules) + "\n";
  const auto loaded =
      std::chrono::duration_cast<std::chrono::seconds>(policy_.loaded_at.time_since_epoch());
  out +=
      "# HELP chokepoint_policy_loaded_timestamp_seconds When the running policy was loaded.\n"
      "# TYPE chokepoint_policy_loaded_timestamp_seconds "
      "gauge\nchokepoint_policy_loaded_timestamp_seconds " +
      std::to_string(loaded.count()) + "\n";
  out += std::string(
             "# HELP chokepoint_ready 1 while accepting connections, 0 while draining.\n"
             "# TYPE chokepoint_ready gauge\nchokepoint_ready ") +
         (ready() ? "1" : "0") + "\n";
  co_return out;
}

}  // namespace chokepoint::proxy
