// Which requests the admin endpoint answers: its own names only (DNS
// rebinding), and POST only from its own origin.
#include "control/admin_hosts.hpp"

#include <catch2/catch.hpp>

using namespace chokepoint;
using chokepoint::control::AdminHosts;

namespace {

IpAddress address(const char* text) {
  return *IpAddress::parse(text);
}

}  // namespace

TEST_CASE("admin: its own names, with or without a port", "[control][admin]") {
  const AdminHosts hosts("Proxy-1.corp.example.");
  const IpAddress loopback = address("127.0.0.1");
  for (const char* own : {"127.0.0.1:9090", "127.0.0.1", "localhost", "LOCALHOST:9090",
                          "localhost.:9090", "[::1]:9090", "[::1]", "proxy-1.corp.example",
                          "Proxy-1.Corp.Example:9090", "localhost:8080"}) {
    INFO(own);
    CHECK(hosts.own(std::string_view(own), loopback));
  }
  for (const char* foreign :
       {"evil.example", "evil.example:9090", "127.0.0.1.evil.example", "localhost.evil.example",
        "proxy-1", "127.0.0.2:9090", "[::2]", "10.0.0.5:9090", "", ":9090", "user@127.0.0.1",
        "127.0.0.1/x", "127.1", "2130706433", "[::ffff:7f00:2]", "local host"}) {
    INFO(foreign);
    CHECK_FALSE(hosts.own(std::string_view(foreign), loopback));
  }
  // No Host at all: HTTP/1.0, which no browser sends.
  CHECK(hosts.own(std::nullopt, loopback));
}

TEST_CASE("admin: the address a request arrived at is its own", "[control][admin]") {
  // A wildcard bind: a Kubernetes probe comes to the pod's address and names it.
  const AdminHosts hosts("");
  CHECK(hosts.own(std::string_view("10.1.2.3:9090"), address("10.1.2.3")));
  CHECK(hosts.own(std::string_view("10.1.2.3"), address("::ffff:10.1.2.3")));
  CHECK(hosts.own(std::string_view("[fd00::7]:9090"), address("fd00::7")));
  CHECK_FALSE(hosts.own(std::string_view("10.1.2.4:9090"), address("10.1.2.3")));
  // An empty or unusable machine name names nothing.
  CHECK_FALSE(hosts.own(std::string_view(""), address("10.1.2.3")));
  const AdminHosts odd("not a name");
  CHECK_FALSE(odd.own(std::string_view("not a name"), address("127.0.0.1")));
}

TEST_CASE("admin: POST only from its own origin", "[control][admin]") {
  const auto same = [](std::optional<std::string_view> origin, std::string_view host) {
    return AdminHosts::same_origin(origin, host);
  };
  CHECK(same(std::nullopt, "127.0.0.1:9090"));  // curl, scripts
  CHECK(same("http://127.0.0.1:9090", "127.0.0.1:9090"));
  CHECK(same("http://LOCALHOST:9090", "localhost:9090"));
  CHECK(same("http://localhost", "localhost:80"));
  CHECK(same("http://[::1]:9090", "[::1]:9090"));
  CHECK_FALSE(same("http://evil.example", "127.0.0.1:9090"));
  CHECK_FALSE(same("http://evil.example:9090", "127.0.0.1:9090"));
  CHECK_FALSE(same("null", "127.0.0.1:9090"));
  CHECK_FALSE(same("https://127.0.0.1:9090", "127.0.0.1:9090"));
  CHECK_FALSE(same("http://127.0.0.1:8080", "127.0.0.1:9090"));
  CHECK_FALSE(same("http://localhost:9090", "127.0.0.1:9090"));
  CHECK_FALSE(same("http://127.0.0.1:9090/", "127.0.0.1:9090"));
  CHECK_FALSE(AdminHosts::same_origin(std::string_view("http://127.0.0.1:9090"), std::nullopt));
}
