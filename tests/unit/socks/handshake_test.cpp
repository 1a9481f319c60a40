// The SOCKS handshake on what real clients send (curl and python3-socks,
// captured by vectors/capture.py) and on hand-built malformed messages, each
// fed in every segmentation: the outcome, what the server sends and the
// bytes consumed must not depend on where the stream was cut, and bytes
// after the request must stay with the caller.
#include <optional>
#include <vector>

#include <catch2/catch.hpp>

#include <chokepoint/socks/handshake.hpp>
#include <chokepoint/tls/client_hello.hpp>

#include "../../support/test_bytes.hpp"

using namespace chokepoint;
using namespace chokepoint::socks;
using chokepoint::test::hex;
using chokepoint::test::text_of;

namespace {

// What the session side of the test does at each decision.
struct Server {
  bool users_file = false;  // require username/password
  std::string user = "agent-7";
  std::string password = "s3cret!pass";
};

// Everything observable about one handshake.
struct Outcome {
  Status status = Status::NeedMore;
  std::size_t consumed = 0;
  std::string sent;  // every server message, in order, error reply included
  std::string reason;
  std::string username;
  Version version = Version::Unknown;
  std::optional<AddressType> type;
  std::string host;  // address text or raw domain
  std::uint16_t port = 0;
  std::string user_id;
  std::string early;  // bytes left after the request

  friend bool operator==(const Outcome&, const Outcome&) = default;
};

std::string sent_text(const ServerMessage& m) {
  return text_of(m.bytes());
}

// Runs the handshake the way a session does (handshake.hpp), with the input
// arriving in the given pieces.
Outcome drive(const std::vector<std::string>& arrivals, const Server& server) {
  ServerHandshake hs;
  Outcome out;
  std::string pending;
  std::size_t next = 0;
  for (;;) {
    const Step step = hs.feed(pending);
    REQUIRE(step.consumed <= pending.size());
    pending.erase(0, step.consumed);
    out.consumed += step.consumed;
    out.status = step.status;
    switch (step.status) {
      case Status::NeedMore:
        if (next == arrivals.size()) return out;
        pending += arrivals[next++];
        continue;
      case Status::ChooseMethod:
        out.sent +=
            sent_text(hs.method_selected(select_method(hs.offered_methods(), server.users_file)));
        continue;
      case Status::CheckCredentials:
        out.username = std::string(hs.username());
        out.sent += sent_text(hs.credentials_checked(hs.username() == server.user &&
                                                     hs.password() == server.password));
        CHECK(hs.password().empty());  // wiped once checked
        continue;
      case Status::Request: {
        const Request& r = hs.request();
        out.version = r.version;
        out.type = r.type;
        out.host = r.type == AddressType::Domain ? std::string(r.domain) : r.address.to_string();
        out.port = r.port;
        out.user_id = std::string(r.user_id);
        out.early = pending;
        while (next < arrivals.size())
          out.early += arrivals[next++];
        break;
      }
      case Status::NotSocks:
      case Status::Error:
        out.sent += sent_text(hs.error().reply);
        out.reason = std::string(hs.error().reason);
        break;
    }
    REQUIRE(hs.consumed() == out.consumed);
    out.version = hs.version();
    return out;
  }
}

Outcome drive_whole(const std::string& input, const Server& server) {
  return drive({input}, server);
}

// Every split into two arrivals, then one byte at a time: the same outcome.
void grind(const std::string& input, const Server& server, const Outcome& expected) {
  for (std::size_t at = 0; at <= input.size(); ++at) {
    INFO("split at " << at);
    REQUIRE(drive({input.substr(0, at), input.substr(at)}, server) == expected);
  }
  std::vector<std::string> bytes;
  for (const char c : input)
    bytes.emplace_back(1, c);
  REQUIRE(drive(bytes, server) == expected);
}

std::string vector_file(const std::string& name) {
  return test::source_file("tests/unit/socks/vectors/" + name + ".bin");
}

}  // namespace

TEST_CASE("real clients: SOCKS4, 4a, 5 without and with authentication", "[socks]") {
  const Server open;
  const Server users{true};
  struct Case {
    const char* file;
    const Server& server;
    Version version;
    AddressType type;
    const char* host;
    std::uint16_t port;
    const char* user_id;
    const char* username;
    const char* sent;  // hex
    std::size_t consumed;
  };
  const Case cases[] = {
      {"curl_socks5_ipv4", open, Version::V5, AddressType::Ipv4, "192.0.2.10", 80, "", "", "0500",
       4 + 10},
      {"curl_socks5_ipv6", open, Version::V5, AddressType::Ipv6, "2001:db8::10", 8080, "", "",
       "0500", 4 + 22},
      {"curl_socks5_hostname", open, Version::V5, AddressType::Domain, "ds20.icrc.trendmicro.com",
       443, "", "", "0500", 4 + 31},
      {"curl_socks5_userpass", users, Version::V5, AddressType::Domain, "ds20.icrc.trendmicro.com",
       443, "", "agent-7", "0502 0100", 5 + 21 + 31},
      {"python_socks5_domain", open, Version::V5, AddressType::Domain, "ds20.icrc.trendmicro.com",
       443, "", "", "0500", 3 + 31},
      {"python_socks5_ipv4", open, Version::V5, AddressType::Ipv4, "192.0.2.10", 80, "", "", "0500",
       3 + 10},
      {"python_socks5_userpass", users, Version::V5, AddressType::Domain,
       "ds20.icrc.trendmicro.com", 443, "", "agent-7", "0502 0100", 4 + 21 + 31},
      {"curl_socks4", open, Version::V4, AddressType::Ipv4, "192.0.2.10", 80, "", "", "", 9},
      {"curl_socks4_user", open, Version::V4, AddressType::Ipv4, "192.0.2.10", 80, "agent-7", "",
       "", 16},
      {"curl_socks4a", open, Version::V4, AddressType::Domain, "ds20.icrc.trendmicro.com", 4119, "",
       "", "", 9 + 25},
      {"curl_socks4a_user", open, Version::V4, AddressType::Domain, "ds20.icrc.trendmicro.com",
       4119, "agent-7", "", "", 16 + 25},
      {"python_socks4", open, Version::V4, AddressType::Ipv4, "192.0.2.10", 80, "", "", "", 9},
      {"python_socks4a", open, Version::V4, AddressType::Domain, "ds20.icrc.trendmicro.com", 80,
       "agent-7", "", "", 16 + 25},
  };
  for (const Case& c : cases) {
    INFO(c.file);
    const std::string input = vector_file(c.file);
    const Outcome out = drive_whole(input, c.server);
    CHECK(out.status == Status::Request);
    CHECK(out.version == c.version);
    CHECK(out.type == c.type);
    CHECK(out.host == c.host);
    CHECK(out.port == c.port);
    CHECK(out.user_id == c.user_id);
    CHECK(out.username == c.username);
    CHECK(out.sent == hex(c.sent));
    CHECK(out.consumed == c.consumed);
    // What follows the request is the client's first flight, untouched.
    CHECK(out.early == input.substr(c.consumed));
    CHECK((out.early.starts_with("GET /") || out.early.starts_with("\x16\x03")));
    grind(input, c.server, out);
  }
}

TEST_CASE("greeting, request and ClientHello in one segment: the hello is left whole", "[socks]") {
  // curl --socks5-hostname to an https:// URL; the capture holds the
  // ClientHello curl sent after the reply, as an optimistic client sends it at once.
  const std::string input = vector_file("curl_socks5_hostname");
  const Outcome out = drive_whole(input, Server{});
  REQUIRE(out.status == Status::Request);
  tls::ClientHelloParser hello;
  CHECK(hello.feed(out.early) == tls::HelloStatus::Done);
  CHECK(hello.info().sni == "ds20.icrc.trendmicro.com");
}

TEST_CASE("authentication policy: the method chosen, and refusals", "[socks]") {
  const Server users{true};
  SECTION("a users file and a client without credentials: 0xFF") {
    const Outcome out = drive_whole(vector_file("curl_socks5_ipv4"), users);
    CHECK(out.status == Status::Error);
    CHECK(out.sent == hex("05ff"));
    CHECK(out.reason == "no acceptable authentication method");
    CHECK(out.consumed == 4);  // the greeting only
  }
  SECTION("no users file and a client offering only username/password: 0xFF") {
    const std::string input = hex("05 01 02") + hex("01 01 61 01 62");
    const Outcome out = drive_whole(input, Server{});
    CHECK(out.status == Status::Error);
    CHECK(out.sent == hex("05ff"));
    grind(input, Server{}, out);
  }
  SECTION("wrong password: failure status, then the end") {
    Server wrong{true};
    wrong.password = "other";
    const std::string input = vector_file("curl_socks5_userpass");
    const Outcome out = drive_whole(input, wrong);
    CHECK(out.status == Status::Error);
    CHECK(out.sent == hex("0502 0101"));
    CHECK(out.reason == "username or password refused");
    CHECK(out.username == "agent-7");
    CHECK(out.consumed == 5 + 21);  // greeting and credentials; the request is never read
    grind(input, wrong, out);
  }
}

TEST_CASE("malformed and refused requests: the reply to send and the reason", "[socks]") {
  const Server open;
  const Server users{true};
  const std::string greeting = hex("05 01 00");
  const std::string v4_rejected = hex("00 5b 0000 00000000");
  auto v5_refusal = [](const char* code) {
    return hex(std::string("05") + code + "00 01 00000000 0000");
  };
  struct Case {
    const char* name;
    std::string input;
    const Server& server;
    Status status;
    std::string sent;  // everything the server sent, the error reply last
    const char* reason;
    std::size_t consumed;
  };
  const Case cases[] = {
      {"http client", "GET / HTTP/1.1\r\n", open, Status::NotSocks, "",
       "the first byte is neither 4 nor 5", 0},
      {"tls client", hex("16 03 01 02 00"), open, Status::NotSocks, "",
       "the first byte is neither 4 nor 5", 0},
      {"empty method list", hex("05 00"), open, Status::Error, hex("05ff"),
       "empty authentication method list", 2},
      {"v5 BIND", greeting + hex("05 02 00 01 7f000001 0050"), open, Status::Error,
       hex("0500") + v5_refusal("07"), "BIND is not supported", 3 + 2},
      {"v5 UDP ASSOCIATE", greeting + hex("05 03 00 01 00000000 0000"), open, Status::Error,
       hex("0500") + v5_refusal("07"), "UDP ASSOCIATE is not supported", 3 + 2},
      {"v5 unknown command", greeting + hex("05 09 00 01 7f000001 0050"), open, Status::Error,
       hex("0500") + v5_refusal("07"), "unknown command", 3 + 2},
      {"v5 BIND with a bad address type: the command decides", greeting + hex("05 02 00 02"), open,
       Status::Error, hex("0500") + v5_refusal("07"), "BIND is not supported", 3 + 2},
      {"v5 address type 2", greeting + hex("05 01 00 02 7f000001 0050"), open, Status::Error,
       hex("0500") + v5_refusal("08"), "unknown address type", 3 + 4},
      {"v5 address type 0", greeting + hex("05 01 00 00"), open, Status::Error,
       hex("0500") + v5_refusal("08"), "unknown address type", 3 + 4},
      {"v5 request version 4", greeting + hex("04 01 00 01 7f000001 0050"), open, Status::Error,
       hex("0500") + v5_refusal("01"), "request version is not 5", 3 + 1},
      {"v5 reserved byte set", greeting + hex("05 01 01 01 7f000001 0050"), open, Status::Error,
       hex("0500") + v5_refusal("01"), "reserved byte is not zero", 3 + 3},
      {"v5 zero-length domain", greeting + hex("05 01 00 03 00 0050"), open, Status::Error,
       hex("0500") + v5_refusal("01"), "empty domain name", 3 + 5},
      {"RFC 1929 version 5", hex("05 01 02") + hex("05 01 61 01 62"), users, Status::Error,
       hex("0502 0101"), "username/password sub-negotiation version is not 1", 3 + 1},
      {"RFC 1929 empty username", hex("05 01 02") + hex("01 00 01 62"), users, Status::Error,
       hex("0502 0101"), "empty username", 3 + 2},
      {"RFC 1929 empty password", hex("05 01 02") + hex("01 01 61 00"), users, Status::Error,
       hex("0502 0101"), "empty password", 3 + 4},
      {"v4 BIND", hex("04 02 0050 7f000001 00"), open, Status::Error, v4_rejected,
       "BIND is not supported", 2},
      {"v4 unknown command", hex("04 03 0050 7f000001 00"), open, Status::Error, v4_rejected,
       "unknown command", 2},
      {"v4 user id of 256 bytes", hex("04 01 0050 7f000001") + std::string(256, 'u') + hex("00"),
       open, Status::Error, v4_rejected, "user id longer than 255 bytes", 8 + 256},
      {"v4a domain of 256 bytes", hex("04 01 0050 00000001 00") + std::string(256, 'd') + hex("00"),
       open, Status::Error, v4_rejected, "domain name longer than 255 bytes", 9 + 256},
      {"v4a empty domain", hex("04 01 0050 000000ff 00 00"), open, Status::Error, v4_rejected,
       "empty domain name", 10},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const Outcome out = drive_whole(c.input, c.server);
    CHECK(out.status == c.status);
    CHECK(out.sent == c.sent);
    CHECK(out.reason == c.reason);
    CHECK(out.consumed == c.consumed);
    grind(c.input, c.server, out);
  }
}

TEST_CASE("limits: the largest messages the protocols allow are read", "[socks]") {
  const Server open;
  SECTION("255 methods") {
    std::string input = hex("05 ff");
    for (int m = 0; m < 255; ++m)
      input += static_cast<char>(m == 254 ? 0 : m + 1);  // no-auth last
    input += hex("05 01 00 01 0a000001 01bb");
    const Outcome out = drive_whole(input, open);
    CHECK(out.status == Status::Request);
    CHECK(out.consumed == 257 + 10);
    CHECK(out.sent == hex("0500"));
  }
  SECTION("255-byte domain, user and password") {
    const std::string name(255, 'a');
    std::string input = hex("05 01 02 01 ff") + std::string(255, 'u') + hex("ff") +
                        std::string(255, 'p') + hex("05 01 00 03 ff") + name + hex("0050");
    Server users{true, std::string(255, 'u'), std::string(255, 'p')};
    const Outcome out = drive_whole(input, users);
    CHECK(out.status == Status::Request);
    CHECK(out.host == name);
    CHECK(out.consumed == input.size());
    grind(input, users, out);
  }
  SECTION("SOCKS4a with a 255-byte user id and domain: the largest message of all") {
    const std::string input = hex("04 01 0050 00000007") + std::string(255, 'u') + hex("00") +
                              std::string(255, 'd') + hex("00");
    REQUIRE(input.size() == kMaxMessage);
    const Outcome out = drive_whole(input + "early", open);
    CHECK(out.status == Status::Request);
    CHECK(out.user_id == std::string(255, 'u'));
    CHECK(out.host == std::string(255, 'd'));
    CHECK(out.early == "early");
  }
  SECTION("SOCKS4 to 0.0.0.0 is an address, not 4a") {
    const Outcome out = drive_whole(hex("04 01 0050 00000000 00"), open);
    CHECK(out.status == Status::Request);
    CHECK(out.type == AddressType::Ipv4);
    CHECK(out.host == "0.0.0.0");
  }
}

TEST_CASE("truncated messages wait for more, never fail", "[socks]") {
  for (const char* file : {"curl_socks5_userpass", "curl_socks4a_user", "curl_socks5_ipv6"}) {
    INFO(file);
    const std::string input = vector_file(file);
    const Server server{std::string_view(file).ends_with("userpass")};
    const Outcome whole = drive_whole(input, server);
    REQUIRE(whole.status == Status::Request);
    for (std::size_t n = 0; n < whole.consumed; ++n) {
      const Outcome part = drive_whole(input.substr(0, n), server);
      INFO("first " << n << " bytes");
      CHECK(part.status == Status::NeedMore);
      CHECK(part.consumed == n);
    }
  }
}

TEST_CASE("the handshake waits for the session's decisions and stays final", "[socks]") {
  ServerHandshake hs;
  const std::string input = hex("05 02 00 02") + hex("05 01 00 01 0a000001 01bb") + "early";
  Step step = hs.feed(input);
  REQUIRE(step.status == Status::ChooseMethod);
  CHECK(step.consumed == 4);
  CHECK(text_of(hs.offered_methods()) == hex("00 02"));
  // Until the session answers, nothing more is taken.
  CHECK(hs.feed(std::string_view(input).substr(4)).consumed == 0);
  CHECK(hs.feed(std::string_view(input).substr(4)).status == Status::ChooseMethod);
  CHECK(hs.credentials_checked(true).empty());  // out of turn
  CHECK(hs.status() == Status::Error);
  CHECK(hs.error().reason == "handshake driven out of turn");

  ServerHandshake ok;
  ok.feed(input);
  CHECK(sent_text(ok.method_selected(kMethodNoAuth)) == hex("0500"));
  CHECK(ok.method() == kMethodNoAuth);
  step = ok.feed(std::string_view(input).substr(4));
  CHECK(step.status == Status::Request);
  CHECK(step.consumed == 10);
  // After the request, bytes are early data and stay untouched.
  CHECK(ok.feed("more").consumed == 0);
  CHECK(ok.feed("more").status == Status::Request);
  CHECK(ok.request().address.to_string() == "10.0.0.1");

  ServerHandshake not_offered;
  not_offered.feed(hex("05 01 00"));
  CHECK(sent_text(not_offered.method_selected(kMethodUsernamePassword)) == hex("05ff"));
  CHECK(not_offered.status() == Status::Error);
  CHECK(not_offered.error().reply.empty());  // the 0xFF selection was the refusal

  ServerHandshake empty;
  CHECK(empty.feed(std::string_view()).status == Status::NeedMore);
  CHECK(empty.version() == Version::Unknown);
}

TEST_CASE("method policy", "[socks]") {
  const auto select = [](const char* offered, bool password_required) {
    const std::string bytes = hex(offered);
    return select_method(
        std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
        password_required);
  };
  CHECK(select("00", false) == kMethodNoAuth);
  CHECK(select("00 01 02", false) == kMethodNoAuth);
  CHECK(select("02", false) == kMethodNoAcceptable);
  CHECK(select("00 01", true) == kMethodNoAcceptable);
  CHECK(select("00 01 02", true) == kMethodUsernamePassword);
  CHECK(select("02", true) == kMethodUsernamePassword);
  CHECK(select("80 fe", false) == kMethodNoAcceptable);
}
