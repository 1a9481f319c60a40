// The manager client's deadlines (include/chokepoint/inventory/manager_client.hpp),
// against real sockets on loopback: one that accepts and then says nothing,
// and a TLS server that completes the handshake, reads the request and
// never answers. A fetch that waited for ever would hold the refresher's
// thread and every refresh after it. The rest of the client is tested end
// to end against the test manager (tests/e2e/test_inventory.py).
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <unistd.h>

#include <boost/asio/ssl.hpp>
#include <catch2/catch.hpp>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <chokepoint/inventory/manager_client.hpp>

using namespace chokepoint;
using namespace chokepoint::inventory;

namespace {

struct Pem {
  std::string certificate;
  std::string key;
};

std::string pem_of(const std::function<int(BIO*)>& write) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  write(bio.get());
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// A self-signed certificate naming 127.0.0.1, made here: the client trusts
// it as its CA file, as an operator trusts a manager's self-signed one.
Pem loopback_certificate() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> x509(X509_new(), X509_free);
  X509_set_version(x509.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x509.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(x509.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(x509.get()), 3600);
  X509_set_pubkey(x509.get(), key.get());
  X509_NAME* name = X509_get_subject_name(x509.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("test manager"), -1, -1, 0);
  X509_set_issuer_name(x509.get(), name);
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, x509.get(), x509.get(), nullptr, nullptr, 0);
  X509_EXTENSION* names =
      X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, "IP:127.0.0.1");
  X509_add_ext(x509.get(), names, -1);
  X509_EXTENSION_free(names);
  X509_sign(x509.get(), key.get(), EVP_sha256());
  return Pem{
      pem_of([&](BIO* bio) { return PEM_write_bio_X509(bio, x509.get()); }), pem_of([&](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
      })};
}

// The inventory source of a manager at 127.0.0.1:`port`.
policy::InventorySource loopback_manager(std::uint16_t port, std::string ca_file = {}) {
  policy::InventorySource source;
  source.url = "https://127.0.0.1:" + std::to_string(port) + "/api";
  source.ca_file = std::move(ca_file);
  return source;
}

FetchLimits with_timeout(std::chrono::milliseconds timeout) {
  FetchLimits limits;
  limits.timeout = timeout;
  return limits;
}

// Runs `fetches` on `io`. Not a timing test: the bound only turns a fetch
// that never ends into a failure instead of a hung run.
void run_bounded(asio::io_context& io, std::function<asio::awaitable<void>()> fetches) {
  asio::co_spawn(io, std::move(fetches), asio::detached);
  io.run_for(std::chrono::seconds(20));
}

}  // namespace

TEST_CASE("a manager that accepts and never answers is given up at the timeout",
          "[inventory][client]") {
  asio::io_context io;
  tcp::acceptor silent(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket held(io), held_again(io);
  silent.async_accept(held, [](const error_code&) {});

  ManagerClient client(loopback_manager(silent.local_endpoint().port()));
  const FetchLimits limits = with_timeout(std::chrono::milliseconds(200));

  std::optional<FetchResult> fetched;
  ComputerList computers;
  run_bounded(io, [&]() -> asio::awaitable<void> {
    fetched = co_await client.fetch("key", limits, computers);
    // The same client tries again from the start: a new connection, a new
    // deadline, the same answer.
    if (fetched->error == FetchError::Connect) {
      silent.async_accept(held_again, [](const error_code&) {});
      fetched = co_await client.fetch("key", limits, computers);
    }
  });

  REQUIRE(fetched.has_value());
  CHECK(fetched->error == FetchError::Connect);
  CHECK(fetched->detail.find("no answer within the timeout") != std::string::npos);
  CHECK(fetched->requests == 0);
}

TEST_CASE("a manager that takes the request and never answers is given up at the timeout",
          "[inventory][client]") {
  const Pem pem = loopback_certificate();
  char ca_path[] = "/tmp/chokepoint-manager-ca-XXXXXX";
  const int fd = ::mkstemp(ca_path);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(ca_path) << pem.certificate;

  asio::io_context io;
  asio::ssl::context server_tls(asio::ssl::context::tls_server);
  server_tls.use_certificate(asio::buffer(pem.certificate), asio::ssl::context::pem);
  server_tls.use_private_key(asio::buffer(pem.key), asio::ssl::context::pem);
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket accepted(io);
  std::optional<asio::ssl::stream<tcp::socket>> server;
  bool handshaken = false;
  std::size_t request_bytes = 0;
  char request[4096];
  acceptor.async_accept(accepted, [&](const error_code& ec) {
    if (ec) return;
    server.emplace(std::move(accepted), server_tls);
    server->async_handshake(asio::ssl::stream_base::server, [&](const error_code& hec) {
      if (hec) return;
      handshaken = true;
      // The request is read; no answer is ever written.
      server->async_read_some(asio::buffer(request),
                              [&](const error_code&, std::size_t n) { request_bytes = n; });
    });
  });

  ManagerClient client(loopback_manager(acceptor.local_endpoint().port(), ca_path));
  std::optional<FetchResult> fetched;
  ComputerList computers;
  run_bounded(io, [&]() -> asio::awaitable<void> {
    fetched = co_await client.fetch("key", with_timeout(std::chrono::milliseconds(300)), computers);
    error_code ignored;
    if (server) server->lowest_layer().close(ignored);
  });
  std::remove(ca_path);

  CHECK(handshaken);
  CHECK(request_bytes > 0);
  REQUIRE(fetched.has_value());
  CHECK(fetched->error == FetchError::Connect);
  CHECK(fetched->detail == "no answer within the timeout");
  CHECK(fetched->requests == 0);
}
