// Test support: real ClientHellos from OpenSSL (an SSL object on memory
// BIOs, driven until it has written its first flight), and helpers to
// re-frame a hello into other record splits.
#pragma once

#include <string>
#include <vector>

namespace chokepoint::test {

struct HelloOptions {
  std::string sni;  // empty: no server_name
  std::vector<std::string> alpn;
  bool tls12_only = false;
  std::string groups;  // OpenSSL group list, e.g. "ffdhe8192" for a big key share
};

// The bytes OpenSSL sends first: one TLS record holding the ClientHello.
std::string openssl_client_hello(const HelloOptions& options);

// The same handshake message spread over `records` TLS records.
std::string rechunk(const std::string& single_record_hello, std::size_t records);

// A record header for `payload` (handshake type, version 3.1).
std::string record(const std::string& payload, unsigned char type = 22);

}  // namespace chokepoint::test
