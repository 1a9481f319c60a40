// --upstream-proxy and a rule's upstream_proxy: the URL, every part of it
// that can be written wrong, and the credentials decoded.
#include <catch2/catch.hpp>

#include <chokepoint/core/upstream_proxy.hpp>

using chokepoint::UpstreamProxy;

TEST_CASE("parent proxy URLs that parse", "[core][upstream_proxy]") {
  struct Row {
    const char* url;
    const char* authority;
    const char* user;
    const char* password;
    bool ip;
  };
  const Row rows[] = {
      {"http://proxy.corp.example:3128", "proxy.corp.example:3128", "", "", false},
      {"http://proxy.corp.example:8080/", "proxy.corp.example:8080", "", "", false},
      {"http://PROXY.Corp.Example.:3128", "proxy.corp.example:3128", "", "", false},
      {"http://10.0.0.8:3128", "10.0.0.8:3128", "", "", true},
      {"http://[2001:db8::8]:3128", "[2001:db8::8]:3128", "", "", true},
      {"http://svc:secret@proxy.corp.example:3128", "proxy.corp.example:3128", "svc", "secret",
       false},
      {"http://svc@proxy.corp.example:3128", "proxy.corp.example:3128", "svc", "", false},
      {"http://svc%40corp:p%3Ass%25@10.0.0.8:3128", "10.0.0.8:3128", "svc@corp", "p:ss%", true},
      // The last '@' ends the credentials: an unencoded '@' in a password still works.
      {"http://svc:p@ss@10.0.0.8:3128", "10.0.0.8:3128", "svc", "p@ss", true},
      {"http://svc:@10.0.0.8:3128", "10.0.0.8:3128", "svc", "", true},
  };
  for (const Row& row : rows) {
    INFO(row.url);
    std::string error;
    const auto parsed = UpstreamProxy::parse(row.url, &error);
    INFO(error);
    REQUIRE(parsed);
    CHECK(parsed->to_string() == row.authority);
    CHECK(parsed->user == row.user);
    CHECK(parsed->password == row.password);
    CHECK(parsed->host.is_ip() == row.ip);
    CHECK(parsed->has_credentials() == (std::string_view(row.user).size() > 0));
    // The credentials never show in how the parent is named.
    if (std::string_view(row.password).size() > 0)
      CHECK(parsed->to_string().find(row.password) == std::string::npos);
  }
}

TEST_CASE("parent proxy URLs that are refused, with a sentence", "[core][upstream_proxy]") {
  struct Row {
    const char* url;
    const char* message;
  };
  const Row rows[] = {
      {"proxy.corp.example:3128", "no scheme"},
      {"socks5://proxy.corp.example:1080", "unknown scheme 'socks5'"},
      {"https://proxy.corp.example:3128", "https:// parents are not supported"},
      {"http://proxy.corp.example", "port is missing"},
      {"http://proxy.corp.example:0", "bad host or port"},
      {"http://proxy.corp.example:70000", "bad host or port"},
      {"http://proxy.corp.example:3128/path", "no path"},
      {"http://proxy.corp.example:3128?x=1", "no path"},
      {"http://:3128", "bad host or port"},
      {"http://", "no host"},
      {"http://svc:pw@", "no host"},
      {"http://2001:db8::8:3128", "bad host or port"},
      {"http://:pw@proxy.corp.example:3128", "a password but no user"},
      {"http://svc:p%4@proxy.corp.example:3128", "bad credentials"},
      {"http://svc:p%zz@proxy.corp.example:3128", "bad credentials"},
      {"http://svc:p%0a@proxy.corp.example:3128", "bad credentials"},
      {"http://a%3Ab:pw@proxy.corp.example:3128", "bad credentials"},
      {"http://b\xc3\xbc"
       "cher.example:3128",
       "bad host or port"},
  };
  for (const Row& row : rows) {
    INFO(row.url);
    std::string error;
    CHECK_FALSE(UpstreamProxy::parse(row.url, &error));
    INFO(error);
    CHECK(error.find(row.message) != std::string::npos);
    CHECK(error.find("expected http://[USER:PASSWORD@]HOST:PORT") != std::string::npos);
  }
  CHECK_FALSE(UpstreamProxy::parse("http://svc:pw"));  // no error out-parameter: still no crash
}
