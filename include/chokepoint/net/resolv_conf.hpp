// The retry schedule glibc reads from resolv.conf's `options` line (and the
// RES_OPTIONS environment variable, which wins): `timeout:N` seconds per
// try and `attempts:N` tries. c-ares 1.18 reads only its own spellings of
// these (`retrans:`, `retry:`), so a resolv.conf written for glibc would
// leave it at its own defaults (5 s, 4 tries); the resolver reads glibc's
// spellings here and hands c-ares the result. Nameservers, `rotate` and
// the hosts lookup order are left to c-ares, which reads them as glibc does.
#pragma once

#include <chrono>
#include <string_view>

namespace chokepoint::net {

struct ResolvTiming {
  std::chrono::milliseconds timeout{5000};  // glibc's RES_TIMEOUT
  int attempts = 2;                         // glibc's RES_DFLRETRY
};

// `resolv_conf`: the file's text; `res_options`: the environment variable's
// value, or empty. Values past glibc's bounds are cut to them (timeout at
// most 30 s, attempts 1 to 5), as glibc cuts them.
ResolvTiming parse_resolv_timing(std::string_view resolv_conf, std::string_view res_options);

}  // namespace chokepoint::net
