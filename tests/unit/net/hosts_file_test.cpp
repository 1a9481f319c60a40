#include <cstdio>
#include <fstream>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chokepoint/net/hosts_file.hpp>

using namespace chokepoint;
using namespace chokepoint::net;

namespace {

std::vector<std::string> texts(std::span<const IpAddress> addresses) {
  std::vector<std::string> out;
  for (const auto& a : addresses)
    out.push_back(a.to_string());
  return out;
}

}  // namespace

TEST_CASE("hosts lines as glibc reads them", "[net][hosts]") {
  const HostsTable table = HostsTable::parse(
      "127.0.0.1\tlocalhost\n"
      "::1 localhost ip6-localhost  # loopback\n"
      "# 10.0.0.1 commented.example\n"
      "10.0.0.5 Manager.Corp.Example manager\n"
      "2001:db8::5 manager.corp.example.\n"
      "fe80::1%eth0 zoned.example\n"
      "not-an-address broken.example\n"
      "10.0.0.6\n"
      "10.0.0.7 manager.corp.example\r\n"
      "127.0.0.1 localhost\n");
  CHECK(texts(table.find("localhost")) == std::vector<std::string>{"127.0.0.1", "::1"});
  CHECK(texts(table.find("manager.corp.example")) ==
        std::vector<std::string>{"10.0.0.5", "2001:db8::5", "10.0.0.7"});
  CHECK(texts(table.find("manager")) == std::vector<std::string>{"10.0.0.5"});
  CHECK(table.find("commented.example").empty());
  CHECK(table.find("zoned.example").empty());
  CHECK(table.find("broken.example").empty());
  CHECK(table.find("absent.example").empty());
}

TEST_CASE("a hosts file is read again when it changes", "[net][hosts]") {
  char path[] = "/tmp/chokepoint-hosts-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(path) << "192.0.2.1 first.example\n";
  HostsFile hosts(path);
  auto now = std::chrono::steady_clock::now();
  CHECK(texts(hosts.find("first.example", now)) == std::vector<std::string>{"192.0.2.1"});
  std::ofstream(path) << "192.0.2.2 first.example second.example\n";
  CHECK(texts(hosts.find("first.example", now)).front() == "192.0.2.1");  // not re-checked yet
  now += std::chrono::seconds(1);
  CHECK(texts(hosts.find("first.example", now)) == std::vector<std::string>{"192.0.2.2"});
  CHECK(texts(hosts.find("second.example", now)) == std::vector<std::string>{"192.0.2.2"});
  std::remove(path);
  now += std::chrono::seconds(1);
  CHECK(hosts.find("first.example", now).empty());  // gone: counts as empty
}
