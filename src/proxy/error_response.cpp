#include "error_response.hpp"

namespace chokepoint::proxy {
namespace {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "Connection established";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 405:
      return "Method Not Allowed";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Error";
  }
}

}  // namespace

std::string structured_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) {
      out += '?';
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

std::string render(const ErrorResponse& r) {
  std::string body =
      "chokepoint: " + std::to_string(r.status) + " " + std::string(reason_phrase(r.status));
  if (!r.details.empty()) body += ": " + r.details;
  body += '\n';
  // The body is for people reading it in a terminal; keep it printable.
  for (char& c : body) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n') || u > 0x7e) c = '?';
  }
  std::string out =
      "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(reason_phrase(r.status)) + "\r\n";
  out += "Proxy-Status: chokepoint; error=" + std::string(r.error_type);
  if (!r.next_hop.empty()) out += "; next-hop=" + structured_string(r.next_hop);
  if (r.received_status != 0) out += "; received-status=" + std::to_string(r.received_status);
  if (!r.details.empty()) out += "; details=" + structured_string(r.details);
  out += "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n";
  out += r.extra_headers;
  out += r.close ? "Connection: close\r\n" : "Connection: keep-alive\r\n";
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace chokepoint::proxy
