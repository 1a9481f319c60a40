#include <limits>
#include <tuple>

#include <chokepoint/control/controller.hpp>
#include <chokepoint/log/log.hpp>
#include <chokepoint/pac/pac_file.hpp>
#include <chokepoint/policy/catalogs.hpp>

#include "admin.hpp"
#include "connections_page.hpp"
#include "dns_page.hpp"
#include "file_watch.hpp"
#include "inventory_page.hpp"
#include "metrics_page.hpp"
#include "policy_page.hpp"
#include "probe_page.hpp"
#include "status_page.hpp"

namespace chokepoint::control {

struct Controller::LastReloadState : LastReload {};

namespace {

// Whether two inventory sections ask for the same refreshes (a reload that
// changes nothing here keeps the refresher and its inventory).
bool same_source(const policy::InventorySource& a, const policy::InventorySource& b) {
  const auto pattern_texts = [](const policy::InventorySource& s) {
    std::vector<std::string> texts;
    for (const auto& p : s.relay_host_names)
      texts.push_back(p.text);
    return texts;
  };
  return a.url == b.url && a.auth == b.auth && a.key_file == b.key_file && a.ca_file == b.ca_file &&
         a.refresh == b.refresh && a.stale_for == b.stale_for && a.required == b.required &&
         pattern_texts(a) == pattern_texts(b);
}

}  // namespace

ControlOptions ControlOptions::from(const config::Settings& settings, std::string config_path) {
  ControlOptions o;
  o.config_path = std::move(config_path);
  o.users_file = settings.users_file;
  o.drain = settings.drain_timeout;
  o.admin = settings.admin;
  o.admin_explicit = settings.given(config::SettingId::admin) && settings.admin.has_value();
  o.admin_public = settings.admin_public;
  o.audit_refuse = settings.audit_refuse;
  o.probe.interval = settings.probe_interval;
  o.probe.ca_file = settings.probe_ca;
  o.proxy = proxy::ProxyOptions(settings);
  return o;
}

Controller::Controller(proxy::Server& server, audit::AuditLog& audit, ControlOptions options,
                       RunningPolicy running)
    : server_(server),
      audit_(audit),
      options_(std::move(options)),
      watch_(std::make_unique<FileWatch>(io_, [this] { reload("a config file changed"); })),
      admin_(std::make_unique<AdminEndpoint>(io_, *this)),
      running_(std::move(running)),
      last_reload_(std::make_unique<LastReloadState>()) {
  signals_.add(SIGUSR1);
}

Controller::~Controller() = default;

bool Controller::start(std::string& error) {
  if (options_.admin &&
      !admin_->bind(*options_.admin, options_.admin_public, options_.admin_explicit, error)) {
    return false;
  }
  const bool files_to_watch = !options_.config_path.empty() || !options_.users_file.empty();
  if (options_.watch_files && files_to_watch) {
    std::vector<std::string> files = running_.files;
    if (!options_.users_file.empty()) files.push_back(options_.users_file);
    if (!watch_->start(files, error)) return false;
  }
  follow_inventory();
  if (options_.probe.interval.count() > 0) {
    watcher_ = std::make_unique<probe::Watcher>(
        options_.proxy, options_.probe, [this](audit::Record record) {
          std::vector<audit::Record> one;
          one.push_back(std::move(record));
          audit_.write(options_.audit_producer, std::move(one));
        });
    if (!watcher_->start(running_.snapshot, error)) return false;
  }
  return true;
}

void Controller::follow_inventory() {
  const auto& wanted = running_.snapshot->policy().inventory;
  if (refresher_ && wanted && same_source(refresher_->source(), *wanted)) return;
  if (refresher_) {
    refresher_->stop();
    refresher_.reset();
    // Another manager, or another key, says nothing yet: until it does,
    // clients are who the CIDR entries say.
    server_.replace_inventory(nullptr);
  }
  if (!wanted) return;
  refresher_ = std::make_unique<inventory::Refresher>(
      *wanted, inventory::FetchLimits{},
      [this](std::shared_ptr<const inventory::Inventory> inventory) {
        server_.replace_inventory(std::move(inventory));
      });
  refresher_->start();
}

std::optional<Endpoint> Controller::admin_endpoint() const {
  return admin_->bound();
}

void Controller::run() {
  wait_signal();
  admin_->start();
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
          log::Message(log::Level::Notice)
              << "stopping now (second " << (signal == SIGTERM ? "SIGTERM" : "SIGINT") << ")";
          finish();
          return;
        }
        log::Message(log::Level::Notice)
            << "draining for up to "
            << std::chrono::duration_cast<std::chrono::seconds>(options_.drain).count() << " s ("
            << (signal == SIGTERM ? "SIGTERM" : "SIGINT") << "; again to stop at once)";
        begin_drain();
    }
    wait_signal();
  });
}

void Controller::begin_drain() {
  draining_ = true;
  server_.stop_accepting();
  // Done when the last connection has ended (an event from the workers), or
  // at the drain deadline, whichever comes first.
  server_.when_idle([this] { asio::post(io_, [this] { finish(); }); });
  drain_timer_.expires_after(options_.drain);
  drain_timer_.async_wait([this](const error_code& ec) {
    if (ec || stopping_) return;
    asio::co_spawn(
        io_,
        [this]() -> asio::awaitable<void> {
          // A worker's open tunnels and connections in their handshake are
          // every connection it has.
          const auto parts = co_await server_.ask_workers([](proxy::Worker& w) {
            const proxy::Metrics m = w.metrics();
            return m.connections;
          });
          std::uint64_t live = 0;
          for (const auto n : parts)
            live += n;
          log::Message(log::Level::Notice)
              << "drain period over; ending " << live << " connections";
          finish();
        },
        asio::detached);
  });
}

void Controller::finish() {
  if (stopping_) return;
  stopping_ = true;
  // Nothing is published into a server that is stopping.
  if (refresher_) refresher_->stop();
  if (watcher_) watcher_->stop();
  // Server::stop ends what is left (each with its record) and joins the workers.
  server_.stop();
  signals_.cancel();
  drain_timer_.cancel();
  watch_->stop();
  admin_->stop();
  io_.stop();
}

ReloadOutcome Controller::reload(std::string_view why) {
  const ReloadSource source{options_.config_path, options_.users_file,
                            server_.authenticator() != nullptr && !options_.users_file.empty()};
  const ReloadTarget target{[this](std::shared_ptr<const policy::Snapshot> snapshot) {
                              server_.replace_policy(std::move(snapshot));
                            },
                            server_.authenticator()};
  ReloadOutcome outcome = control::reload(source, target, running_);
  last_reload_->at = std::chrono::system_clock::now();
  last_reload_->why = std::string(why);
  last_reload_->ok = outcome.ok;
  last_reload_->message = outcome.message;
  if (outcome.ok) {
    log::Message(log::Level::Notice) << "reload (" << why << "): " << outcome.message;
    follow_inventory();
    if (watcher_) watcher_->replace_policy(running_.snapshot);
  } else {
    log::Message(log::Level::Warning)
        << "reload (" << why << ") refused; the running policy stays:\n"
        << outcome.message;
  }
  return outcome;
}

std::optional<std::string> Controller::auto_config(std::string_view host_header) const {
  std::uint16_t port = 0;
  for (const auto& listener : server_.bound()) {
    if (listener.kind == proxy::ListenerKind::Explicit) {
      port = listener.endpoint.port;
      break;
    }
  }
  const policy::Policy& policy = running_.snapshot->policy();
  if (port == 0 && policy.pac.proxy.empty()) return std::nullopt;
  // The client reached the admin endpoint: its host, but the explicit
  // listener's port.
  std::string host_only;
  Host host;
  std::uint16_t admin_port = 0;
  if (parse_authority(host_header, host, admin_port, 1) == HostError::None)
    host_only = host.kind == HostKind::Ipv6 ? "[" + host.name + "]" : host.name;
  const auto proxy = pac::choose_proxy(policy, host_only, port);
  if (!proxy) return std::nullopt;
  return pac::generate_pac(policy, *proxy, policy.pac.fallback);
}

std::string Controller::policy_json() const {
  return render_policy(running_, policy::loaded_catalogs(running_.snapshot->policy()));
}

asio::awaitable<std::string> Controller::connections_json() {
  auto lists = co_await server_.ask_workers(
      [](proxy::Worker& w) { return w.tunnels(std::numeric_limits<std::size_t>::max()); });
  std::vector<proxy::Worker::OpenTunnel> tunnels;
  for (auto& list : lists)
    std::move(list.begin(), list.end(), std::back_inserter(tunnels));
  co_return render_connections(tunnels);
}

asio::awaitable<std::string> Controller::metrics_text() {
  const auto parts = co_await server_.ask_workers([](proxy::Worker& w) { return w.metrics(); });
  MetricsPage page;
  for (const auto& part : parts)
    page.traffic.add(part);
  page.buffer_bytes = server_.buffers().used();
  page.buffer_limit = server_.buffers().limit();
  page.sinks = audit_.sinks();
  page.audit_dropped = audit_.dropped();
  page.dns = server_.dns().stats();
  if (const auth::Authenticator* a = server_.authenticator()) page.auth = a->stats();
  if (refresher_) page.inventory = inventory_page();
  if (watcher_) page.probe = probe_page();
  page.policy = &running_;
  page.ready = ready();
  co_return render(page);
}

std::string Controller::not_ready() const {
  if (draining_) return "draining";
  if (!server_.accepts_succeed()) return "not accepting: out of descriptors";
  if (options_.audit_refuse && !audit_.available())
    return "audit_unavailable: " + audit_.unavailable_reason();
  if (refresher_ && refresher_->source().required && !refresher_->current()) {
    const std::string error = refresher_->status().last_error;
    return "inventory_unavailable: the manager's computer list does not apply" +
           (error.empty() ? std::string(" yet") : ": " + error);
  }
  return {};
}

asio::awaitable<std::string> Controller::status_html() {
  struct Part {
    proxy::Metrics metrics;
    std::vector<proxy::Worker::OpenTunnel> tunnels;
  };
  auto parts = co_await server_.ask_workers([](proxy::Worker& w) {
    return Part{w.metrics(), w.tunnels(kShownTunnels)};
  });
  StatusPage page;
  page.now = std::chrono::system_clock::now();
  for (auto& part : parts) {
    page.traffic.add(part.metrics);
    for (auto& t : part.tunnels) {
      if (page.tunnels.size() < kShownTunnels) page.tunnels.push_back(std::move(t));
    }
  }
  page.tunnels_open = page.traffic.open_tunnels;
  std::sort(page.tunnels.begin(), page.tunnels.end(),
            [](const auto& a, const auto& b) { return a.age > b.age; });
  page.not_ready = not_ready();
  page.ready = page.not_ready.empty();
  page.refusals = audit_.recent_refusals();
  page.sinks = audit_.sinks();
  page.audit_dropped = audit_.dropped();
  page.audit_refuse = options_.audit_refuse;
  page.audit_available = audit_.available();
  if (!page.audit_available) page.audit_unavailable = audit_.unavailable_reason();
  page.policy = &running_;
  page.last_reload = *last_reload_;
  page.dns = server_.dns().stats();
  page.dns_names = server_.dns().list();
  std::sort(page.dns_names.begin(), page.dns_names.end(),
            [](const auto& a, const auto& b) { return a.hits > b.hits; });
  if (page.dns_names.size() > kShownNames) page.dns_names.resize(kShownNames);
  if (refresher_) page.inventory = inventory_page();
  if (watcher_) page.probe = probe_page();
  co_return render_html(page);
}

InventoryPage Controller::inventory_page() const {
  InventoryPage page;
  if (refresher_) {
    page.url = refresher_->source().url;
    page.required = refresher_->source().required;
    std::tie(page.status, page.inventory) = refresher_->status_and_current();
  }
  // After the status: no refresh it shows happened after `now`.
  page.now = std::chrono::system_clock::now();
  return page;
}

std::string Controller::inventory_json() const {
  return render_inventory(inventory_page());
}

ProbePage Controller::probe_page() const {
  ProbePage page;
  page.now = std::chrono::system_clock::now();
  page.enabled = watcher_ != nullptr;
  if (watcher_) page.view = watcher_->view();
  return page;
}

std::string Controller::probe_json() const {
  return render_probe(probe_page());
}

std::string Controller::dns_json() const {
  // list() copies every name: the cache is bounded (--dns-cache-size).
  return render_dns(DnsPage{server_.dns().stats(), server_.dns().list()});
}

}  // namespace chokepoint::control
