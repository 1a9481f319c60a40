// A synthetic but realistic day of audit records (see audit_log_gen.cpp), as
// a library for the generator and the benchmarks.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <chokepoint/audit/policy_terms.hpp>
#include <chokepoint/audit/record.hpp>
#include <chokepoint/policy/loader.hpp>
#include <chokepoint/policy/snapshot.hpp>

namespace chokepoint::bench {

inline constexpr const char* kSite = R"(version: 1
include: builtin:deep-security.yaml
mode: %s
variables:
  manager: [dsm.corp.example, 10.0.0.5]
  relays: [10.0.1.0/24]
  databases: [10.0.2.10]
clients:
  - {cidr: 10.0.8.0/21, role: agent, version: "20.0"}
  - {cidr: 10.0.16.0/24, role: agent, version: "12.0"}
  - {cidr: 10.0.1.0/24, role: relay, version: "20.0"}
  - {cidr: 10.0.0.5, role: manager}
  - {user: automation, role: api-client}
)";

inline std::shared_ptr<const policy::Snapshot> snapshot(const char* mode) {
  char text[2048];
  std::snprintf(text, sizeof text, kSite, mode);
  auto loaded = policy::load_config_text(text, "site.yaml");
  if (!loaded) {
    for (const auto& d : loaded.diagnostics())
      std::fprintf(stderr, "%s\n", d.to_string().c_str());
    std::exit(2);
  }
  return policy::Snapshot::build(std::move(loaded).value().policy).value();
}

struct Target {
  const char* host;
  std::uint16_t port;
  int weight;
};

// What each kind of client reaches, with relative weights.
inline const std::vector<Target> kAgent20 = {
    {"ds20.icrc.trendmicro.com", 443, 30},
    {"ds2000-en-census.trendmicro.com", 443, 10},
    {"deepsec20-en.gfrbridge.trendmicro.com", 443, 8},
    {"ds200-en.fbs25.trendmicro.com", 443, 4},
    {"ds20-en-b.trx.trendmicro.com", 443, 6},
    {"ds20-0-en.url.trendmicro.com", 443, 10},
    {"iaus.activeupdate.trendmicro.com", 443, 6},
    {"iaus.activeupdate.trendmicro.com", 80, 4},
    {"files.trendmicro.com", 443, 2},
    {"dsm.corp.example", 4120, 15},
    {"dsm.corp.example", 4119, 3},
    {"10.0.1.7", 4122, 4},
    {"ds120.icrc.trendmicro.com", 443, 1},   // the wrong version's server
    {"grid-global.trendmicro.com", 443, 1},  // the Manager's
    {"files.trendmicro.com", 8443, 1},       // the wrong port
};
inline const std::vector<Target> kAgent12 = {
    {"ds120.icrc.trendmicro.com", 443, 30},
    {"ds1200-en-census.trendmicro.com", 443, 10},
    {"deepsec12-en.gfrbridge.trendmicro.com", 443, 8},
    {"ds120-en-f.trx.trendmicro.com", 443, 6},
    {"ds12-0-en.url.trendmicro.com", 443, 10},
    {"iaus.activeupdate.trendmicro.com", 443, 6},
    {"dsm.corp.example", 4120, 15},
    {"10.0.1.7", 4122, 4},
    {"ds20.icrc.trendmicro.com", 443, 2},
};
inline const std::vector<Target> kRelay = {
    {"iaus.activeupdate.trendmicro.com", 443, 20},
    {"iaus.trendmicro.com", 443, 5},
    {"ipv6-iaus.trendmicro.com", 443, 2},
    {"files.trendmicro.com", 443, 5},
    {"dsm.corp.example", 4119, 5},
    {"dsm.corp.example", 4120, 5},
    {"10.0.1.8", 4122, 3},
};
inline const std::vector<Target> kManager = {
    {"grid-global.trendmicro.com", 443, 10},
    {"licenseupdate.trendmicro.com", 443, 2},
    {"news.deepsecurity.trendmicro.com", 443, 1},
    {"telemetry.deepsecurity.trendmicro.com", 443, 2},
    {"ec2.us-east-1.amazonaws.com", 443, 5},
    {"sts.amazonaws.com", 443, 3},
    {"iam.amazonaws.com", 443, 1},
    {"login.microsoftonline.com", 443, 2},
    {"management.azure.com", 443, 2},
    {"10.0.2.10", 1433, 8},
    {"10.0.1.7", 4122, 2},
    {"api.xdr.trendmicro.com", 443, 3},
};
// Outside the catalog: what an audit-mode day turns up.
inline const std::vector<Target> kOutside = {
    {"github.com", 443, 3},         {"objects.githubusercontent.com", 443, 2},
    {"api.segment.io", 443, 1},     {"deb.debian.org", 80, 4},
    {"security.debian.org", 80, 3}, {"ntp.ubuntu.com", 443, 1},
    {"s3.amazonaws.com", 443, 2},   {"192.0.2.44", 443, 1},
    {"mirror.corp.example", 80, 2}, {"crl.example-ca.com", 80, 2},
};

inline const Target& pick(const std::vector<Target>& targets, std::mt19937_64& rng) {
  int total = 0;
  for (const auto& t : targets)
    total += t.weight;
  int roll = static_cast<int>(rng() % static_cast<std::uint64_t>(total));
  for (const auto& t : targets) {
    roll -= t.weight;
    if (roll < 0) return t;
  }
  return targets.back();
}

inline std::string ip4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return std::to_string(a) + '.' + std::to_string(b) + '.' + std::to_string(c) + '.' +
         std::to_string(d);
}

// Calls `emit(record)` for every record of a day about `bytes` long as
// JSON lines, one connection (one or two records) at a time, for as long as
// `go_on()` says so.
template <class Emit, class GoOn>
void synthesize_records(std::uint64_t bytes, std::uint64_t seed, Emit&& emit, GoOn&& go_on) {
  const auto audit_mode = snapshot("audit");
  const auto enforced = snapshot("enforce");
  std::mt19937_64 rng(seed);
  // About 1,050 bytes a connection (most leave an open and a close record):
  // spread them over one day.
  const std::uint64_t expected_records = bytes / 1050 + 1;
  const auto start = std::chrono::system_clock::time_point(std::chrono::seconds(1795996800));
  const auto step =
      std::chrono::microseconds(86'400'000'000LL / static_cast<long long>(expected_records));

  std::uint64_t sequence = 0;
  auto now = start;
  while (go_on()) {
    now += step;
    const double day_fraction = std::chrono::duration<double>(now - start).count() / 86400.0;
    const auto& snap = day_fraction < 0.3 ? *audit_mode : *enforced;

    // Who.
    std::string address;
    std::string user;
    const std::vector<Target>* targets = &kAgent20;
    const unsigned who = static_cast<unsigned>(rng() % 1000);
    if (who < 700) {
      const unsigned n = static_cast<unsigned>(rng() % 2000);
      address = ip4(10, 0, 8 + n / 256, n % 256);
    } else if (who < 850) {
      address = ip4(10, 0, 16, static_cast<unsigned>(rng() % 250));
      targets = &kAgent12;
    } else if (who < 900) {
      address = ip4(10, 0, 1, 10 + static_cast<unsigned>(rng() % 20));
      targets = &kRelay;
    } else if (who < 950) {
      address = "10.0.0.5";
      targets = &kManager;
    } else if (who < 960) {
      address = "10.0.0.9";
      user = "automation";
      targets = &kManager;
    } else {
      address = ip4(10, 0, 32, static_cast<unsigned>(rng() % 64));  // not in `clients`
    }
    const Target& target = rng() % 100 < 6 ? pick(kOutside, rng) : pick(*targets, rng);

    Host host;
    normalize_host(target.host, host);
    const auto client_ip = IpAddress::parse(address);
    const auto identity = snap.identify(&*client_ip, user);
    const unsigned mode_roll = static_cast<unsigned>(rng() % 100);
    const bool plain = target.port == 80 && mode_roll < 80;
    const std::string path =
        plain ? "/repo/pool/main/p" + std::to_string(rng() % 5000) + ".deb" : "";
    const auto decision = snap.decide(host, target.port, identity,
                                      plain ? std::optional<std::string_view>(path) : std::nullopt);

    audit::Record r;
    r.ts = now;
    r.id = "5f1c09a2-" + std::to_string(rng() % 2) + "-" + std::to_string(++sequence);
    r.client = address + ":" + std::to_string(30000 + rng() % 30000);
    r.user = user;
    r.role = snap.role_label(identity);
    r.version = snap.version_label(identity);
    r.host = host.name;
    r.port = target.port;
    if (plain) {
      r.mode = audit::Mode::Http;
      r.method = "GET";
      r.path = path;
      r.http_host = host.name;
    } else if (mode_roll < 90) {
      r.mode = audit::Mode::Connect;
      r.method = "CONNECT";
      r.http_host = host.name + ":" + std::to_string(target.port);
    } else {
      r.mode = audit::Mode::Transparent;
      r.sni = host.is_ip() ? "" : host.name;
      r.orig_dst = "203.0.113." + std::to_string(rng() % 250) + ":" + std::to_string(target.port);
    }
    r.decision = audit::decision_of(decision.action);
    r.rule = std::string(decision.rule_id());
    if (decision.match.rule) r.service = decision.match.rule->service;
    r.reason = audit::reason_of(decision.reason);
    r.enforced = decision.enforced;
    if (!decision.let_out() || !decision.enforced)
      r.detail = snap.describe(decision, host, target.port, identity);

    if (!decision.let_out()) {
      r.event = audit::Event::Deny;
      r.source = audit::Source::Policy;
      r.status = r.mode == audit::Mode::Transparent ? 0 : 403;
      r.duration_ms = static_cast<std::int64_t>(rng() % 3);
      emit(r);
    } else if (rng() % 100 < 2) {
      static constexpr audit::Reason kErrors[] = {
          audit::Reason::ConnectTimeout, audit::Reason::ConnectRefused, audit::Reason::DnsTimeout,
          audit::Reason::DnsNotFound};
      r.event = audit::Event::Error;
      r.reason = kErrors[rng() % 4];
      r.source = audit::source_of(r.reason);
      r.detail = "the upstream could not be reached";
      r.status = r.mode == audit::Mode::Transparent ? 0 : 502;
      r.duration_ms = static_cast<std::int64_t>(rng() % 10000);
      emit(r);
    } else {
      r.event = audit::Event::Open;
      r.upstream = "203.0.113." + std::to_string(rng() % 250) + ":" + std::to_string(target.port);
      r.dns_ms = static_cast<std::int64_t>(rng() % 40);
      r.connect_ms = static_cast<std::int64_t>(rng() % 60);
      r.status = r.mode == audit::Mode::Transparent ? 0 : 200;
      r.duration_ms = r.dns_ms + r.connect_ms;
      emit(r);
      // The close record, later in the file in reality; next to it here.
      r.ts = now + std::chrono::milliseconds(rng() % 60000);
      r.event = audit::Event::Close;
      std::lognormal_distribution<double> size(8.0, 2.0);
      r.bytes_up = static_cast<std::uint64_t>(size(rng));
      r.bytes_down = static_cast<std::uint64_t>(size(rng) * 4);
      r.duration_ms = static_cast<std::int64_t>(rng() % 60000);
      r.relay = audit::RelayPath::Splice;
      r.end = audit::End::Eof;
      r.source = audit::Source::Client;
      r.detail.clear();
      emit(r);
    }
  }
}

// Calls `sink(chunk)` with about a MiB of JSON lines at a time until
// `bytes` have been produced.
template <class Sink>
void synthesize_audit_log(std::uint64_t bytes, std::uint64_t seed, Sink&& sink) {
  std::string out;
  out.reserve(1 << 20);
  std::uint64_t written = 0;
  synthesize_records(
      bytes, seed, [&](const audit::Record& r) { audit::append_json_line(out, r); },
      [&] {
        if (out.size() >= (1 << 20)) {
          sink(std::string_view(out));
          written += out.size();
          out.clear();
        }
        return written < bytes;
      });
  sink(std::string_view(out));
}

}  // namespace chokepoint::bench
