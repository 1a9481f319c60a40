#include "tls_check.hpp"

#include <memory>

#include <boost/asio/ssl.hpp>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

namespace chokepoint::probe {
namespace {

namespace ssl = boost::asio::ssl;

std::string name_text(const X509_NAME* name) {
  if (!name) return "";
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return "";
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : "";
}

// What verification found: the first failure, and the leaf it was about.
struct Verification {
  int error = X509_V_OK;
  std::string subject;
  std::string issuer;
};

void note_leaf(const X509* leaf, Verification& v) {
  if (!leaf || !v.subject.empty()) return;
  v.subject = name_text(X509_get_subject_name(leaf));
  v.issuer = name_text(X509_get_issuer_name(leaf));
}

// Why a handshake failed that verification did not refuse: OpenSSL's reason
// ("wrong version number" from a server that is not TLS, an alert the
// server sent) or the socket's.
std::string handshake_error(const error_code& ec) {
  if (ec.category() == asio::error::get_ssl_category()) {
    const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    if (reason) return std::string("TLS handshake failed: ") + reason;
  }
  if (ec == asio::ssl::error::stream_truncated || ec == asio::error::eof)
    return "TLS handshake failed: the far end closed the connection";
  return "TLS handshake failed: " + ec.message();
}

}  // namespace

asio::awaitable<TlsCheck> check_tls(tcp::socket socket, ssl::context& context, const Host& host,
                                    std::chrono::milliseconds timeout, Cancellation* cancellation) {
  TlsCheck check;
  ssl::stream<tcp::socket> stream(std::move(socket), context);
  SSL* native = stream.native_handle();
  // An address is checked against the certificate's IP SANs (OpenSSL
  // parses it as one); SNI is only ever a name (RFC 6066 3).
  SSL_set1_host(native, host.name.c_str());
  if (!host.is_ip()) SSL_set_tlsext_host_name(native, host.name.c_str());

  auto verification = std::make_shared<Verification>();
  stream.set_verify_mode(ssl::verify_peer);
  stream.set_verify_callback([verification](bool preverified, ssl::verify_context& ctx) {
    X509_STORE_CTX* store = ctx.native_handle();
    if (!preverified && verification->error == X509_V_OK) {
      verification->error = X509_STORE_CTX_get_error(store);
      note_leaf(X509_STORE_CTX_get0_cert(store), *verification);
    }
    return preverified;
  });

  const auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, timeout);
  bool timed_out = false;
  const auto end = [&stream, &timed_out] {
    timed_out = true;
    error_code ignored;
    stream.lowest_layer().close(ignored);
  };
  timer.async_wait([&end](const error_code& ec) {
    if (!ec) end();
  });
  Cancellation::Registration ends(cancellation, end);

  error_code ec;
  if (cancellation && cancellation->requested()) {
    timed_out = true;
  } else {
    co_await stream.async_handshake(ssl::stream_base::client, await_into(ec));
  }
  timer.cancel();

  if (!ec && !timed_out) {
    note_leaf(SSL_get0_peer_certificate(native), *verification);
    check.subject = verification->subject;
    check.issuer = verification->issuer;
  } else if (verification->error != X509_V_OK) {
    check.outcome = Outcome::Certificate;
    check.detail = std::string("the certificate did not verify: ") +
                   X509_verify_cert_error_string(verification->error);
    check.subject = verification->subject;
    check.issuer = verification->issuer;
  } else if (timed_out) {
    check.outcome = Outcome::Timeout;
    check.detail = "no TLS handshake within the timeout";
  } else {
    check.outcome = Outcome::Tls;
    check.detail = handshake_error(ec);
  }
  error_code ignored;
  stream.lowest_layer().close(ignored);
  // The timer's handler refers to this frame: let it run (cancelled) first.
  co_await asio::post(executor, asio::use_awaitable);
  co_return check;
}

}  // namespace chokepoint::probe
