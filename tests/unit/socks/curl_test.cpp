// Real curl against the handshake and its replies: a small blocking server
// on 127.0.0.1 drives ServerHandshake exactly as handshake.hpp describes,
// answers the request with request_reply(), and then plays the HTTP server
// itself, echoing what it was asked for. curl accepting the replies is the
// test of the encoders; the echoed request is the test of the parser.
#include <array>
#include <cstdio>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chokepoint/socks/handshake.hpp>

using namespace chokepoint;
using namespace chokepoint::socks;

namespace {

struct Policy {
  bool users_file = false;
  bool allow = true;  // answer the request with success, or NotAllowed
};

class OneShotServer {
 public:
  explicit OneShotServer(Policy policy) : policy_(policy) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), size) == 0);
    REQUIRE(::listen(fd_, 1) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) == 0);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneShotServer() {
    finish();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  // Waits for the connection to end (a listener nobody reached is shut
  // down) and returns what the server concluded.
  const std::string& finish() {
    if (thread_.joinable()) {
      ::shutdown(fd_, SHUT_RDWR);
      thread_.join();
    }
    return log_;
  }

 private:
  void serve() {
    const int conn = ::accept(fd_, nullptr, nullptr);
    if (conn < 0) return;
    const timeval limit{10, 0};  // a broken exchange fails the test instead of hanging it
    ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    handshake(conn);
    ::close(conn);
  }

  void send(int conn, const ServerMessage& m) {
    if (!m.empty()) (void)::send(conn, m.data.data(), m.size, MSG_NOSIGNAL);
  }

  void handshake(int conn) {
    ServerHandshake hs;
    std::string pending;
    for (;;) {
      const Step step = hs.feed(pending);
      pending.erase(0, step.consumed);
      if (step.status == Status::NeedMore) {
        std::array<char, 4096> buffer;
        const ssize_t n = ::recv(conn, buffer.data(), buffer.size(), 0);
        if (n <= 0) return log("eof");
        pending.append(buffer.data(), static_cast<std::size_t>(n));
      } else if (step.status == Status::ChooseMethod) {
        send(conn, hs.method_selected(select_method(hs.offered_methods(), policy_.users_file)));
      } else if (step.status == Status::CheckCredentials) {
        const bool good = hs.username() == "agent-7" && hs.password() == "s3cret!pass";
        send(conn, hs.credentials_checked(good));
      } else if (step.status == Status::Request) {
        const Request& r = hs.request();
        const std::string host =
            r.type == AddressType::Domain ? std::string(r.domain) : r.address.to_string();
        log("v" + std::to_string(static_cast<int>(r.version)) + " " + host + " " +
            std::to_string(r.port) + " user=" + std::string(hs.username()) +
            " id=" + std::string(r.user_id));
        if (!policy_.allow) {
          send(conn, request_reply(hs.version(), ReplyCode::NotAllowed));
          return;
        }
        send(conn, request_reply(hs.version(), ReplyCode::Succeeded, *IpAddress::parse("127.0.0.1"),
                                 port_));
        return answer_http(conn, pending);
      } else {
        send(conn, hs.error().reply);
        return log("error: " + std::string(hs.error().reason));
      }
    }
  }

  // The early data is the client's HTTP request; answer it with the log.
  void answer_http(int conn, std::string request) {
    while (request.find("\r\n\r\n") == std::string::npos) {
      std::array<char, 4096> buffer;
      const ssize_t n = ::recv(conn, buffer.data(), buffer.size(), 0);
      if (n <= 0) return;
      request.append(buffer.data(), static_cast<std::size_t>(n));
    }
    const std::string response =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(log_.size()) +
        "\r\nConnection: close\r\n\r\n" + log_;
    (void)::send(conn, response.data(), response.size(), MSG_NOSIGNAL);
  }

  void log(const std::string& line) { log_ = line; }

  Policy policy_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::string log_;
};

struct CurlResult {
  int exit_code = -1;
  std::string body;
};

CurlResult curl(const std::string& args) {
  const std::string command = "curl -s --max-time 10 " + args + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  CurlResult result;
  std::array<char, 4096> buffer;
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe))
    result.body.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

constexpr int kCurlProxyError = 97;  // CURLE_PROXY: the SOCKS server refused

}  // namespace

TEST_CASE("curl through the handshake: every SOCKS mode", "[socks][curl]") {
  struct Case {
    const char* args;
    Policy policy;
    const char* echoed;
  };
  const Case cases[] = {
      {"--socks5-hostname PROXY http://ds20.icrc.trendmicro.com/",
       {},
       "v5 ds20.icrc.trendmicro.com 80 user= id="},
      {"--socks5 PROXY http://192.0.2.10:4119/", {}, "v5 192.0.2.10 4119 user= id="},
      {"--socks5 PROXY http://[2001:db8::10]:8080/", {}, "v5 2001:db8::10 8080 user= id="},
      {"--socks5-hostname PROXY --proxy-user 'agent-7:s3cret!pass' http://files.example/",
       {true, true},
       "v5 files.example 80 user=agent-7 id="},
      {"--socks4 PROXY http://192.0.2.10/", {}, "v4 192.0.2.10 80 user= id="},
      {"--socks4a PROXY --proxy-user agent-7: http://ds20.icrc.trendmicro.com:4122/",
       {},
       "v4 ds20.icrc.trendmicro.com 4122 user= id=agent-7"},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    OneShotServer server(c.policy);
    std::string args = c.args;
    args.replace(args.find("PROXY"), 5, "127.0.0.1:" + std::to_string(server.port()));
    const CurlResult result = curl(args);
    CHECK(result.exit_code == 0);
    CHECK(result.body == c.echoed);
  }
}

TEST_CASE("curl is refused the way SOCKS says it", "[socks][curl]") {
  struct Case {
    const char* args;
    Policy policy;
    const char* log;
  };
  const Case cases[] = {
      {"--socks5-hostname PROXY http://blocked.example/",
       {false, false},
       "v5 blocked.example 80 user= id="},
      {"--socks4a PROXY http://blocked.example/",
       {false, false},
       "v4 blocked.example 80 user= id="},
      {"--socks5-hostname PROXY http://a.example/",
       {true, true},
       "error: no acceptable authentication method"},
      {"--socks5-hostname PROXY --proxy-user agent-7:wrong http://a.example/",
       {true, true},
       "error: username or password refused"},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    OneShotServer server(c.policy);
    std::string args = c.args;
    args.replace(args.find("PROXY"), 5, "127.0.0.1:" + std::to_string(server.port()));
    CHECK(curl(args).exit_code == kCurlProxyError);
    CHECK(server.finish() == c.log);
  }
}
