#include "client_hello_builder.hpp"

#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/ssl.h>

namespace chokepoint::test {

std::string openssl_client_hello(const HelloOptions& o) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (o.tls12_only) SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  if (!o.sni.empty()) SSL_set_tlsext_host_name(ssl, o.sni.c_str());
  if (!o.alpn.empty()) {
    std::string wire;
    for (const auto& p : o.alpn)
      wire += static_cast<char>(p.size()) + p;
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  }
  if (!o.groups.empty() && SSL_set1_groups_list(ssl, o.groups.c_str()) != 1) {
    throw std::runtime_error("bad groups " + o.groups);
  }
  SSL_set_connect_state(ssl);
  SSL_do_handshake(ssl);  // wants to read: the hello is in `out`
  char* data = nullptr;
  const long n = BIO_get_mem_data(out, &data);
  std::string hello(data, static_cast<std::size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

std::string record(const std::string& payload, unsigned char type) {
  std::string r;
  r += static_cast<char>(type);
  r += '\x03';
  r += '\x01';
  r += static_cast<char>(payload.size() >> 8);
  r += static_cast<char>(payload.size() & 0xff);
  return r + payload;
}

std::string rechunk(const std::string& hello, std::size_t records) {
  const std::string message = hello.substr(5);
  std::string out;
  const std::size_t step = (message.size() + records - 1) / records;
  for (std::size_t at = 0; at < message.size(); at += step)
    out += record(message.substr(at, step));
  return out;
}

}  // namespace chokepoint::test
