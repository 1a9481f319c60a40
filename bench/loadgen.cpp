// Load generator and sink for the side-by-side benchmark (bench/run.py).
//
//   loadgen sink --listen ADDR:PORT [--threads N]
//   loadgen rate       --mode M --to ADDR:PORT [target] --concurrency 64 --seconds 5
//                      [--pattern echo|flight]
//   loadgen throughput --mode M --to ADDR:PORT [target] --streams 1 --direction up|down --seconds 5
//   loadgen idle       --mode M --to ADDR:PORT [target] --count 10000
//
// Modes: direct (straight to the sink: the physical limit), socks5 (a SOCKS5
// CONNECT by name, greeting and request in one write), connect (an HTTP
// CONNECT to --name:--port, then the stream), sni (a real ClientHello naming
// --name, built by OpenSSL, then the stream). Results are one JSON line.
// --proxy-header v1|v2 puts a PROXY protocol header in front of the CONNECT,
// the SOCKS greeting or the hello, in the same write, as a load balancer
// does (rate only): the client it names is 192.0.2.N, N going round 1..250,
// so the proxy sees many clients as it would behind a balancer.
//
// Exchange patterns (rate): echo, the client's 64 bytes and the sink's echo
// of them, then the sink closes; flight, as a TLS client's exchange goes: a
// ClientHello (in every mode; after the CONNECT or the SOCKS reply), the
// server's first flight back (4,000 bytes: ServerHello to Finished with an
// RSA certificate), then 64 bytes each way and the sink closes. The proxy
// relays four chunks instead of two, and its client speaks twice.
//
// The sink speaks a tiny protocol after an optional TLS record (skipped, so
// the hello never reaches the exchange): 'X' one 64-byte echo, then close;
// 'F' the first flight, then one 64-byte echo, then close; 'E' echo until
// EOF; 'U' discard until EOF, then answer the byte count; 'D' + 8-byte
// count: send that many bytes, then close.
#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <chokepoint/core/asio.hpp>
#include <chokepoint/core/endpoint.hpp>

#include "client_hello_builder.hpp"

using namespace chokepoint;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kChunk = 256 * 1024;
// A TLS 1.3 server's first flight with an RSA-2048 certificate, roughly.
constexpr std::size_t kFirstFlight = 4000;

struct Options {
  std::map<std::string, std::string> values;
  std::string get(const std::string& key, const std::string& fallback = "") const {
    const auto it = values.find(key);
    return it == values.end() ? fallback : it->second;
  }
  long number(const std::string& key, long fallback) const {
    const auto it = values.find(key);
    return it == values.end() ? fallback : std::stol(it->second);
  }
};

void raise_fd_limit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

tcp::endpoint endpoint_of(const std::string& text) {
  const auto e = Endpoint::parse(text);
  if (!e) throw std::runtime_error("bad endpoint " + text);
  return tcp::endpoint(asio::ip::make_address(e->address.to_string()), e->port);
}

struct Target {
  std::string mode;  // direct | connect | sni | socks5
  tcp::endpoint to;
  std::string connect_head;  // connect mode
  std::string hello;         // sni mode, and the flight pattern
  bool flight = false;       // the flight pattern
  std::string socks;         // socks5 mode: greeting and CONNECT request, sent together
  std::string proxy_header;  // "v1", "v2" or empty
};

// A SOCKS5 server answers the greeting (2 bytes) and the request (10 bytes
// with an IPv4 bound address).
constexpr std::size_t kSocksReplies = 2 + 10;

// A balancer's PROXY header naming client number `n` (proxy-protocol.txt
// 2.1 and 2.2: TCP over IPv4).
std::string proxy_header(const std::string& version, unsigned n, const tcp::endpoint& to) {
  const unsigned client = 1 + n % 250;
  const std::uint16_t source_port = static_cast<std::uint16_t>(10000 + n % 50000);
  if (version == "v1") {
    return "PROXY TCP4 192.0.2." + std::to_string(client) + " " + to.address().to_string() + " " +
           std::to_string(source_port) + " " + std::to_string(to.port()) + "\r\n";
  }
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += '\x21';  // version 2, PROXY
  h += '\x11';  // TCP over IPv4
  h += std::string("\0\x0c", 2);
  const unsigned char source[4] = {192, 0, 2, static_cast<unsigned char>(client)};
  h.append(reinterpret_cast<const char*>(source), 4);
  const auto destination = to.address().to_v4().to_bytes();
  h.append(reinterpret_cast<const char*>(destination.data()), 4);
  h += static_cast<char>(source_port >> 8);
  h += static_cast<char>(source_port & 0xff);
  h += static_cast<char>(to.port() >> 8);
  h += static_cast<char>(to.port() & 0xff);
  return h;
}

Target target_of(const Options& o) {
  Target t;
  t.mode = o.get("mode", "direct");
  t.to = endpoint_of(o.get("to"));
  const std::string name = o.get("name", "ds20.icrc.trendmicro.com");
  const std::string port = o.get("port", "443");
  t.connect_head =
      "CONNECT " + name + ":" + port + " HTTP/1.1\r\nHost: " + name + ":" + port + "\r\n\r\n";
  t.proxy_header = o.get("proxy-header", "");
  if (t.mode == "socks5") {
    const std::uint16_t p = static_cast<std::uint16_t>(std::stoi(port));
    t.socks = std::string("\x05\x01\x00\x05\x01\x00\x03", 7) + static_cast<char>(name.size()) +
              name + static_cast<char>(p >> 8) + static_cast<char>(p & 0xff);
  }
  t.flight = o.get("pattern", "echo") == "flight";
  if (t.mode == "sni" || t.flight) {
    chokepoint::test::HelloOptions hello;
    hello.sni = name;
    t.hello = chokepoint::test::openssl_client_hello(hello);  // as OpenSSL's client sends it
  }
  return t;
}

// ---- blocking client side (throughput, idle) --------------------------------------------

int blocking_open(const Target& t) {
  const int fd = ::socket(t.to.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, t.to.data(), static_cast<socklen_t>(t.to.size())) != 0) {
    ::close(fd);
    return -1;
  }
  auto write_all = [&](const std::string& s) {
    std::size_t at = 0;
    while (at < s.size()) {
      const ssize_t n = ::write(fd, s.data() + at, s.size() - at);
      if (n <= 0) return false;
      at += static_cast<std::size_t>(n);
    }
    return true;
  };
  if (t.mode == "connect") {
    if (!write_all(t.connect_head)) return ::close(fd), -1;
    std::string head;
    char c;
    while (head.size() < 4096 && head.find("\r\n\r\n") == std::string::npos &&
           ::read(fd, &c, 1) == 1)
      head += c;
    if (head.find(" 200") == std::string::npos) return ::close(fd), -1;
  } else if (t.mode == "sni") {
    if (!write_all(t.hello)) return ::close(fd), -1;
  } else if (t.mode == "socks5") {
    if (!write_all(t.socks)) return ::close(fd), -1;
    char replies[kSocksReplies];
    std::size_t got = 0;
    while (got < sizeof replies) {
      const ssize_t n = ::read(fd, replies + got, sizeof replies - got);
      if (n <= 0) return ::close(fd), -1;
      got += static_cast<std::size_t>(n);
    }
    if (replies[1] != 0 || replies[3] != 0) return ::close(fd), -1;
  }
  return fd;
}

bool write_fully(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

int throughput(const Options& o) {
  const Target t = target_of(o);
  const int streams = static_cast<int>(o.number("streams", 1));
  const double seconds = static_cast<double>(o.number("seconds", 5));
  const bool up = o.get("direction", "up") == "up";
  std::atomic<std::uint64_t> total{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  for (int i = 0; i < streams; ++i) {
    threads.emplace_back([&] {
      std::vector<char> buffer(kChunk, 'x');
      const int fd = blocking_open(t);
      if (fd < 0) {
        ++failures;
        return;
      }
      std::uint64_t moved = 0;
      if (up) {
        buffer[0] = 'U';
        while (Clock::now() < deadline && write_fully(fd, buffer.data(), buffer.size()))
          moved += buffer.size();
      } else {
        char request[9] = {'D'};
        const std::uint64_t endless = ~std::uint64_t{0} >> 1;
        std::memcpy(request + 1, &endless, 8);
        write_fully(fd, request, sizeof request);
        while (Clock::now() < deadline) {
          const ssize_t n = ::read(fd, buffer.data(), buffer.size());
          if (n <= 0) break;
          moved += static_cast<std::uint64_t>(n);
        }
      }
      total += moved;
      ::close(fd);
    });
  }
  for (auto& th : threads)
    th.join();
  const double gbit = static_cast<double>(total.load()) * 8 / seconds / 1e9;
  std::printf("{\"gbit_s\":%.3f,\"bytes\":%llu,\"failures\":%d}\n", gbit,
              static_cast<unsigned long long>(total.load()), failures.load());
  return failures.load() == 0 ? 0 : 1;
}

int idle(const Options& o) {
  const Target t = target_of(o);
  const long count = o.number("count", 10000);
  std::vector<int> fds;
  fds.reserve(static_cast<std::size_t>(count));
  int failures = 0;
  for (long i = 0; i < count; ++i) {
    const int fd = blocking_open(t);
    char probe[9] = {'E', 'p', 'r', 'o', 'b', 'e', '!', '!', '\n'};
    char back[8];
    if (fd < 0 || !write_fully(fd, probe, sizeof probe) ||
        ::recv(fd, back, sizeof back, MSG_WAITALL) != 8) {
      ++failures;
      if (fd >= 0) ::close(fd);
      continue;
    }
    fds.push_back(fd);
  }
  std::printf("{\"open\":%zu,\"failures\":%d}\n", fds.size(), failures);
  std::fflush(stdout);
  // Hold them until the harness has measured, then let go.
  std::string line;
  std::getline(std::cin, line);
  for (int fd : fds)
    ::close(fd);
  return 0;
}

// ---- asynchronous side (sink, rate) ------------------------------------------------------

asio::awaitable<void> sink_session(tcp::socket socket) {
  error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  char first;
  co_await asio::async_read(socket, asio::buffer(&first, 1), await_into(ec));
  if (ec) co_return;
  if (first == 0x16) {  // a TLS record in front (sni mode): skip it
    unsigned char header[4];
    co_await asio::async_read(socket, asio::buffer(header), await_into(ec));
    std::vector<char> skip(std::size_t{header[2]} << 8 | header[3]);
    co_await asio::async_read(socket, asio::buffer(skip), await_into(ec));
    co_await asio::async_read(socket, asio::buffer(&first, 1), await_into(ec));
    if (ec) co_return;
  }
  if (first == 'F') {
    const std::string flight(kFirstFlight, 'f');
    co_await asio::async_write(socket, asio::buffer(flight), await_into(ec));
    if (ec) co_return;
    first = 'X';
  }
  if (first == 'X') {
    // One exchange, then the server closes first: the TIME_WAIT lands here,
    // on the listening side, and not on the client's ephemeral ports, which
    // at tens of thousands of connections a second would run out and make
    // connect() the limit of every measurement.
    char buffer[64];
    co_await asio::async_read(socket, asio::buffer(buffer), await_into(ec));
    if (!ec) co_await asio::async_write(socket, asio::buffer(buffer), await_into(ec));
    socket.shutdown(tcp::socket::shutdown_send, ec);
  } else if (first == 'E') {
    char buffer[4096];
    while (true) {
      const auto n = co_await socket.async_read_some(asio::buffer(buffer), await_into(ec));
      if (ec) break;
      co_await asio::async_write(socket, asio::buffer(buffer, n), await_into(ec));
      if (ec) break;
    }
    socket.shutdown(tcp::socket::shutdown_send, ec);
  } else if (first == 'U') {
    std::vector<char> buffer(kChunk);
    std::uint64_t total = 0;
    while (true) {
      const auto n = co_await socket.async_read_some(asio::buffer(buffer), await_into(ec));
      total += n;
      if (ec) break;
    }
    co_await asio::async_write(socket, asio::buffer(&total, 8), await_into(ec));
  } else if (first == 'D') {
    std::uint64_t left = 0;
    co_await asio::async_read(socket, asio::buffer(&left, 8), await_into(ec));
    std::vector<char> buffer(kChunk, 'y');
    while (!ec && left > 0) {
      const auto n = std::min<std::uint64_t>(left, buffer.size());
      left -= co_await asio::async_write(socket, asio::buffer(buffer.data(), n), await_into(ec));
    }
  }
}

int sink(const Options& o) {
  raise_fd_limit();
  const int threads = static_cast<int>(o.number("threads", 2));
  tcp::endpoint at = endpoint_of(o.get("listen", "127.0.0.1:0"));
  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  for (int i = 0; i < threads; ++i) {
    ios.push_back(std::make_unique<asio::io_context>(1));
    auto acceptor = std::make_unique<tcp::acceptor>(*ios.back());
    acceptor->open(at.protocol());
    acceptor->set_option(asio::socket_base::reuse_address(true));
    acceptor->set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
    acceptor->bind(at);
    acceptor->listen(4096);
    at = acceptor->local_endpoint();
    acceptors.push_back(std::move(acceptor));
  }
  std::printf("%u\n", at.port());
  std::fflush(stdout);
  std::vector<std::thread> runners;
  for (int i = 0; i < threads; ++i) {
    asio::co_spawn(
        *ios[static_cast<std::size_t>(i)],
        [&acceptor = *acceptors[static_cast<std::size_t>(i)]]() -> asio::awaitable<void> {
          while (true) {
            error_code ec;
            tcp::socket socket = co_await acceptor.async_accept(await_into(ec));
            if (ec) continue;
            asio::co_spawn(acceptor.get_executor(), sink_session(std::move(socket)),
                           asio::detached);
          }
        },
        asio::detached);
    runners.emplace_back([&io = *ios[static_cast<std::size_t>(i)]] { io.run(); });
  }
  for (auto& r : runners)
    r.join();
  return 0;
}

struct RateState {
  std::vector<std::uint32_t> latencies_us;
  std::uint64_t done = 0;
  std::uint64_t failures = 0;
};

asio::awaitable<void> rate_worker(const Target& t, Clock::time_point deadline, RateState& state,
                                  unsigned first_client) {
  const auto executor = co_await asio::this_coro::executor;
  unsigned client = first_client;
  // 'X' for one echoed exchange, then the 64 bytes that come back; the sink
  // then closes, and so does the client once it sees the end. The flight
  // pattern opens with the hello and 'F', and waits for the first flight.
  char payload[65];
  std::memset(payload, 'p', sizeof payload);
  payload[0] = 'X';
  const char* send = t.flight ? payload + 1 : payload;
  const std::size_t send_size = t.flight ? 64 : 65;
  const std::string opening = t.hello + 'F';
  std::string flight(kFirstFlight, '\0');
  char back[64];
  while (Clock::now() < deadline) {
    const auto start = Clock::now();
    tcp::socket socket(executor);
    error_code ec;
    co_await socket.async_connect(t.to, await_into(ec));
    if (!ec) socket.set_option(tcp::no_delay(true), ec);
    const std::string header =
        t.proxy_header.empty() ? std::string() : proxy_header(t.proxy_header, client++, t.to);
    if (!ec && t.mode == "connect") {
      co_await asio::async_write(socket, asio::buffer(header + t.connect_head), await_into(ec));
      std::string head;
      if (!ec)
        co_await asio::async_read_until(socket, asio::dynamic_buffer(head), "\r\n\r\n",
                                        await_into(ec));
      if (!ec && head.find(" 200") == std::string::npos) ec = asio::error::connection_refused;
    } else if (!ec && t.mode == "sni") {
      if (!t.flight)
        co_await asio::async_write(socket, asio::buffer(header + t.hello), await_into(ec));
    } else if (!ec && t.mode == "socks5") {
      co_await asio::async_write(socket, asio::buffer(header + t.socks), await_into(ec));
      char replies[kSocksReplies];
      if (!ec) co_await asio::async_read(socket, asio::buffer(replies), await_into(ec));
      if (!ec && (replies[1] != 0 || replies[3] != 0)) ec = asio::error::connection_refused;
    }
    if (!ec && t.flight) {
      const std::string first = (t.mode == "sni" ? header : std::string()) + opening;
      co_await asio::async_write(socket, asio::buffer(first), await_into(ec));
      if (!ec) co_await asio::async_read(socket, asio::buffer(flight), await_into(ec));
    }
    if (!ec) co_await asio::async_write(socket, asio::buffer(send, send_size), await_into(ec));
    if (!ec) co_await asio::async_read(socket, asio::buffer(back), await_into(ec));
    if (ec) {
      ++state.failures;
      continue;
    }
    char end;
    co_await socket.async_read_some(asio::buffer(&end, 1), await_into(ec));  // the server's FIN
    socket.close(ec);
    state.latencies_us.push_back(static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count()));
    ++state.done;
  }
}

// `concurrency` exchanges in flight, spread over `threads` event loops (one
// loop alone would make the load generator, not the proxy, the limit).
int rate(const Options& o) {
  raise_fd_limit();
  const Target t = target_of(o);
  const long concurrency = o.number("concurrency", 64);
  const long threads = o.number("threads", 1);
  const double seconds = static_cast<double>(o.number("seconds", 5));
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(seconds));
  std::vector<RateState> states(static_cast<std::size_t>(threads));
  std::vector<std::thread> runners;
  for (long th = 0; th < threads; ++th) {
    runners.emplace_back([&, th] {
      asio::io_context io(1);
      RateState& state = states[static_cast<std::size_t>(th)];
      state.latencies_us.reserve(1 << 20);
      for (long i = th; i < concurrency; i += threads) {
        asio::co_spawn(io, rate_worker(t, deadline, state, static_cast<unsigned>(i) * 1000),
                       asio::detached);
      }
      io.run();
    });
  }
  for (auto& r : runners)
    r.join();
  RateState state;
  for (auto& s : states) {
    state.latencies_us.insert(state.latencies_us.end(), s.latencies_us.begin(),
                              s.latencies_us.end());
    state.done += s.done;
    state.failures += s.failures;
  }
  auto& l = state.latencies_us;
  std::sort(l.begin(), l.end());
  auto pct = [&](double p) {
    return l.empty() ? 0u : l[std::min(l.size() - 1, static_cast<std::size_t>(p * l.size()))];
  };
  std::printf("{\"per_s\":%.1f,\"p50_us\":%u,\"p99_us\":%u,\"p999_us\":%u,\"failures\":%llu}\n",
              static_cast<double>(state.done) / seconds, pct(0.5), pct(0.99), pct(0.999),
              static_cast<unsigned long long>(state.failures));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: loadgen sink|rate|throughput|idle [--key value]...\n";
    return 2;
  }
  Options o;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) == 0) key = key.substr(2);
    o.values[key] = argv[i + 1];
  }
  const std::string command = argv[1];
  try {
    if (command == "sink") return sink(o);
    raise_fd_limit();
    if (command == "rate") return rate(o);
    if (command == "throughput") return throughput(o);
    if (command == "idle") return idle(o);
  } catch (const std::exception& e) {
    std::cerr << "loadgen: " << e.what() << '\n';
    return 1;
  }
  std::cerr << "loadgen: unknown command " << command << '\n';
  return 2;
}
