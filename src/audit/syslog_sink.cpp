#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <chokepoint/audit/sink.hpp>
#include <chokepoint/core/endpoint.hpp>
#include <chokepoint/log/log.hpp>

namespace chokepoint::audit {
namespace {

using namespace std::chrono_literals;

constexpr auto kFirstBackoff = 500ms;
constexpr auto kLongestBackoff = 30s;
constexpr auto kStopGrace = 2s;
constexpr int kIoTimeoutSeconds = 10;
constexpr std::size_t kLargestDatagram = 60 * 1024;

std::string version() {
  return CHOKEPOINT_VERSION;
}

class SyslogSink final : public Sink {
 public:
  SyslogSink(const SyslogTarget& target, const SyslogOptions& options)
      : target_(target), options_(options) {
    if (options_.hostname.empty()) {
      char name[256] = {};
      ::gethostname(name, sizeof name - 1);
      options_.hostname = name;
    }
    thread_ = std::thread([this] { run(); });
  }
  ~SyslogSink() override { stop(); }

  void write(std::span<const std::vector<Record>> batches) override {
    std::vector<std::string> messages;
    for (const auto& batch : batches) {
      for (const Record& r : batch) {
        std::string message =
            format_rfc5424(r, target_.format, options_.hostname, ::getpid(), version());
        messages.push_back(target_.transport == SyslogTarget::Transport::Udp
                               ? std::move(message)
                               : octet_counted(message));
      }
    }
    {
      std::lock_guard lock(mutex_);
      for (auto& m : messages) {
        if (queue_.size() >= options_.max_queued) {
          lost_.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        queue_.push_back(std::move(m));
      }
    }
    wake_.notify_one();
  }

  void stop() override {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
    disconnect();
    if (ctx_) SSL_CTX_free(ctx_);
    ctx_ = nullptr;
  }

  SinkStats stats() const override { return {written_.load(), lost_.load()}; }
  // A SIEM that is down is not a failure while its backlog fits the queue
  // (it gets it later); a full queue loses records.
  SinkHealth health() const override {
    std::lock_guard lock(mutex_);
    if (queue_.size() < options_.max_queued) return {};
    return SinkHealth{true, "its queue is full (" + std::to_string(queue_.size()) +
                                " messages the SIEM has not taken)"};
  }
  std::string name() const override { return "syslog:" + target_.to_string(); }

 private:
  void run() {
    auto backoff = kFirstBackoff;
    std::optional<std::chrono::steady_clock::time_point> stop_deadline;
    while (true) {
      std::deque<std::string> batch;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_ && !stop_deadline)
          stop_deadline = std::chrono::steady_clock::now() + kStopGrace;
        if (queue_.empty()) return;
        batch.swap(queue_);
      }
      // A SIEM that closed the connection since the last batch would
      // otherwise swallow the next writes into a dead socket's buffer.
      if (fd_ >= 0 && peer_closed()) disconnect();
      while (!batch.empty()) {
        if (fd_ < 0 && !connect()) break;
        const Sent sent = send(batch.front());
        if (sent == Sent::Failed) {
          disconnect();
          break;
        }
        batch.pop_front();
        (sent == Sent::Ok ? written_ : lost_).fetch_add(1, std::memory_order_relaxed);
        backoff = kFirstBackoff;
      }
      if (batch.empty()) continue;
      // Not delivered: keep the messages (within the bound) and retry later.
      if (stop_deadline && std::chrono::steady_clock::now() >= *stop_deadline) {
        std::lock_guard lock(mutex_);
        lost_.fetch_add(batch.size() + queue_.size(), std::memory_order_relaxed);
        log::Message(log::Level::Error) << "audit: " << name() << " unreachable at shutdown; "
                                        << batch.size() + queue_.size() << " records not delivered";
        queue_.clear();
        return;
      }
      {
        std::unique_lock lock(mutex_);
        for (auto it = batch.rbegin(); it != batch.rend(); ++it)
          queue_.push_front(std::move(*it));
        while (queue_.size() > options_.max_queued) {
          queue_.pop_back();
          lost_.fetch_add(1, std::memory_order_relaxed);
        }
        wake_.wait_for(
            lock,
            stop_deadline ? std::chrono::duration_cast<std::chrono::milliseconds>(200ms) : backoff,
            [&] { return stopping_ && !stop_deadline; });
      }
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, kLongestBackoff);
    }
  }

  bool connect() {
    addrinfo hints{};
    hints.ai_socktype =
        target_.transport == SyslogTarget::Transport::Udp ? SOCK_DGRAM : SOCK_STREAM;
    addrinfo* list = nullptr;
    const std::string port = std::to_string(target_.port);
    if (::getaddrinfo(target_.host.c_str(), port.c_str(), &hints, &list) != 0)
      return complain("cannot resolve");
    for (const addrinfo* ai = list; ai && fd_ < 0; ai = ai->ai_next) {
      const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd < 0) continue;
      timeval timeout{kIoTimeoutSeconds, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
      if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        fd_ = fd;
      } else {
        ::close(fd);
      }
    }
    ::freeaddrinfo(list);
    if (fd_ < 0) return complain("cannot connect");
    if (target_.transport == SyslogTarget::Transport::Tls && !start_tls()) {
      disconnect();
      return false;
    }
    if (!said_connected_) {
      log::Message(log::Level::Info) << "audit: connected to " << name();
      said_connected_ = true;
    }
    return true;
  }

  bool start_tls() {
    if (!ctx_) {
      ctx_ = SSL_CTX_new(TLS_client_method());
      SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
      const bool loaded =
          target_.ca_file.empty()
              ? SSL_CTX_set_default_verify_paths(ctx_) == 1
              : SSL_CTX_load_verify_locations(ctx_, target_.ca_file.c_str(), nullptr) == 1;
      if (!loaded) return complain("cannot load the CA for TLS");
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    if (!IpAddress::parse(target_.host)) SSL_set_tlsext_host_name(ssl_, target_.host.c_str());
    SSL_set1_host(ssl_, target_.host.c_str());  // the certificate must name the SIEM
    if (SSL_connect(ssl_) != 1) {
      char reason[256];
      ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
      return complain(std::string("TLS handshake failed: ") + reason);
    }
    return true;
  }

  enum class Sent : std::uint8_t { Ok, Lost, Failed };

  Sent send(const std::string& message) {
    if (target_.transport == SyslogTarget::Transport::Udp) {
      // A datagram is all or nothing; one that will not fit is cut, not
      // dropped (RFC 5426 3.2 allows truncation).
      const std::size_t size = std::min(message.size(), kLargestDatagram);
      if (::send(fd_, message.data(), size, MSG_NOSIGNAL) >= 0) return Sent::Ok;
      // Nobody listening (an ICMP refusal on the connected socket): UDP
      // cannot retry meaningfully, so this one message is counted as lost.
      if (errno == ECONNREFUSED) return Sent::Lost;
      complain("send failed");
      return Sent::Failed;
    }
    std::size_t at = 0;
    while (at < message.size()) {
      const int n =
          ssl_ ? SSL_write(ssl_, message.data() + at, static_cast<int>(message.size() - at))
               : static_cast<int>(
                     ::send(fd_, message.data() + at, message.size() - at, MSG_NOSIGNAL));
      if (n <= 0) {
        complain("send failed");
        return Sent::Failed;
      }
      at += static_cast<std::size_t>(n);
    }
    return Sent::Ok;
  }

  // Whether a stream SIEM has closed or reset the connection. A plain TCP
  // SIEM never sends anything, so readable means closed; over TLS the
  // server may send session tickets, so only the FIN counts there.
  bool peer_closed() const {
    if (target_.transport == SyslogTarget::Transport::Udp) return false;
    const short closed = POLLRDHUP | POLLHUP | POLLERR;
    const short watched =
        target_.transport == SyslogTarget::Transport::Tcp ? (POLLIN | closed) : closed;
    pollfd p{fd_, watched, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & watched) != 0;
  }

  void disconnect() {
    if (ssl_) {
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Says once per outage what went wrong; returns false for the caller.
  bool complain(const std::string& what) {
    if (said_connected_ || !said_down_) {
      const int error = errno;  // before anything else can change it
      log::Message(log::Level::Warning)
          << "audit: " << name() << ": " << what << " (" << std::strerror(error)
          << "); records wait, within a bound, and are retried";
      said_down_ = true;
      said_connected_ = false;
    }
    return false;
  }

  SyslogTarget target_;
  SyslogOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> lost_{0};
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool said_connected_ = false;
  bool said_down_ = false;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Sink> make_syslog_sink(const SyslogTarget& target, const SyslogOptions& options) {
  return std::make_unique<SyslogSink>(target, options);
}

}  // namespace chokepoint::audit
