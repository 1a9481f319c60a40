#include <iostream>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>
#include <chokepoint/core/json.hpp>
#include <chokepoint/policy/snapshot.hpp>

namespace chokepoint::app {
namespace {

int usage(std::string_view message) {
  std::cerr << "chokepoint explain: " << message << '\n'
            << "usage: chokepoint explain [--config FILE] [--client IP | --user NAME | --role ROLE]"
               " [--version V] HOST:PORT[/PATH]\n";
  return kExitUsage;
}

}  // namespace

int explain_command(Args& args) {
  std::string config_path;
  std::optional<std::string> client;
  std::optional<std::string> user;
  std::optional<std::string> role;
  std::optional<std::string> version;
  std::optional<std::string> target;
  while (!args.done()) {
    std::string error;
    if (auto v = args.option("--config", error)) {
      config_path = *v;
    } else if (auto c = args.option("--client", error)) {
      client = *c;
    } else if (auto u = args.option("--user", error)) {
      user = *u;
    } else if (auto r = args.option("--role", error)) {
      role = *r;
    } else if (auto ver = args.option("--version", error)) {
      version = *ver;
    } else if (!error.empty()) {
      return usage(error);
    } else if (args.peek().substr(0, 2) == "--" || target) {
      return usage("unexpected argument '" + args.peek() + "'");
    } else {
      target = args.take();
    }
  }
  if (!target) return usage("missing HOST:PORT");
  if ((client.has_value() + user.has_value() + role.has_value()) > 1) {
    return usage("give at most one of --client, --user and --role");
  }

  // HOST:PORT, optionally followed by the path a plain HTTP request would show.
  std::string_view authority = *target;
  std::optional<std::string_view> path;
  const auto slash = authority.find('/');
  if (slash != std::string_view::npos) {
    path = authority.substr(slash);
    authority = authority.substr(0, slash);
  }
  Host host;
  std::uint16_t port = 0;
  if (const auto error = parse_authority(authority, host, port); error != HostError::None) {
    return usage("bad destination '" + std::string(authority) +
                 "': " + std::string(to_string(error)));
  }

  auto config = load_or_report(config_path, std::cerr);
  if (!config) return kExitUsage;
  auto built = policy::Snapshot::build(std::move(config->policy.policy));
  print_diagnostics(built.diagnostics(), std::cerr);
  if (!built) return kExitUsage;
  const policy::Snapshot& snapshot = *built.value();

  std::optional<Version> parsed_version;
  if (version) {
    parsed_version = Version::parse(*version);
    if (!parsed_version)
      return usage("bad version '" + *version + "' (expected 20, 20.0 or 20.0.1-1234)");
  }
  policy::ClientIdentity identity;
  if (client) {
    const auto address = IpAddress::parse(*client);
    if (!address) return usage("bad client address '" + *client + "'");
    identity = snapshot.identify(&*address, "");
  } else if (user) {
    identity = snapshot.identify(nullptr, *user);
  } else if (role) {
    const int index = snapshot.policy().find_role(*role);
    if (index < 0 && *role != "any") return usage("unknown role '" + *role + "'");
    identity = snapshot.identity_for(index < 0 ? policy::kAnyRole : index, parsed_version);
  } else {
    identity = snapshot.identity_for(snapshot.policy().default_role, parsed_version);
  }
  if (parsed_version && (client || user))
    identity = snapshot.identity_for(identity.role, parsed_version);

  const policy::Decision decision = snapshot.decide(host, port, identity, path);
  std::string out;
  JsonObject json(out);
  json.field("decision", policy::to_string(decision.action))
      .field("enforced", decision.enforced)
      .string_or_null("rule", decision.rule_id())
      .field("reason", policy::to_string(decision.reason))
      .field("detail", snapshot.describe(decision, host, port, identity))
      .field("host", host.name)
      .field("port", unsigned{port});
  if (path) json.field("path", *path);
  json.field("role", snapshot.role_label(identity))
      .string_or_null("version", snapshot.version_label(identity));
  if (decision.match) {
    json.field("match", policy::to_string(decision.match.kind))
        .field("pattern",
               decision.match.destination->pattern.text + decision.match.destination->path)
        .field("service", decision.match.rule->service);
  }
  json.close();
  std::cout << out << '\n';
  return decision.let_out() ? kExitOk : kExitDenied;
}

}  // namespace chokepoint::app
