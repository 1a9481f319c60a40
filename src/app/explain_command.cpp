#include <iostream>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>
#include <chokepoint/core/json.hpp>
#include <chokepoint/inventory/inventory.hpp>
#include <chokepoint/inventory/manager_client.hpp>
#include <chokepoint/policy/snapshot.hpp>

namespace chokepoint::app {
namespace {

struct ExplainArgs {
  std::string config_path;
  std::optional<std::string> client;
  std::optional<std::string> user;
  std::optional<std::string> role;
  std::optional<std::string> version;
  std::optional<std::string> target;
};

// Who is asking: one of a client address, a proxy user or a role.
constexpr int kWho = 1;

const config::CommandLine<ExplainArgs>& command_line() {
  using config::operand;
  using config::option;
  static const config::CommandLine<ExplainArgs> line(
      {"explain", "print the decision as JSON; exit 0 if it would be let out, 1 if not",
       "Prints the decision on HOST:PORT as one JSON object (decision, rule, reason, detail, "
       "...), for the policy's default role unless told who asks; exits 0 if it would be let "
       "out, 1 if not."},
      {option("--config", "FILE", "the policy (default: the built-in catalog)",
              &ExplainArgs::config_path),
       option("--client", "IP",
              "as asked by this client address (with an inventory section, the manager is "
              "asked who it is)",
              &ExplainArgs::client)
           .exclusive(kWho),
       option("--user", "NAME", "as asked by this proxy user", &ExplainArgs::user).exclusive(kWho),
       option("--role", "ROLE", "as asked by a client of this role (any: every role)",
              &ExplainArgs::role)
           .exclusive(kWho),
       option("--version", "V", "the client's agent version: 20, 20.0 or 20.0.1-1234",
              &ExplainArgs::version),
       operand("HOST:PORT[/PATH]", "the destination, and the path a plain HTTP request would show",
               &ExplainArgs::target)
           .required("missing HOST:PORT")});
  return line;
}

// What the manager says `address` is, when the policy has an inventory
// section; a failed fetch is said on stderr, and the clients entries decide.
std::optional<inventory::Client> ask_inventory(const policy::Policy& policy,
                                               const IpAddress& address) {
  if (!policy.inventory) return std::nullopt;
  inventory::ComputerList computers;
  const auto fetched = inventory::fetch_computers_once(*policy.inventory, computers);
  if (fetched.error != inventory::FetchError::None) {
    std::cerr << "chokepoint explain: the inventory (" << policy.inventory->url
              << ") could not be fetched: " << fetched.detail << "; the clients entries decide\n";
    return std::nullopt;
  }
  const auto map =
      inventory::Inventory::build(computers.computers(), policy.inventory->relay_host_names);
  if (const inventory::Client* found = map->find(address)) return *found;
  return std::nullopt;
}

int explain(const Words& words) {
  ExplainArgs args;
  if (const auto exit = read_args(command_line(), words, args)) return *exit;
  const auto& [config_path, client, user, role, version, target] = args;

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
    return usage_error(command_line(), "bad destination '" + std::string(authority) +
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
      return usage_error(command_line(),
                         "bad version '" + *version + "' (expected 20, 20.0 or 20.0.1-1234)");
  }
  policy::ClientIdentity identity;
  std::optional<inventory::Client> computer;
  if (client) {
    const auto address = IpAddress::parse(*client);
    if (!address) return usage_error(command_line(), "bad client address '" + *client + "'");
    computer = ask_inventory(snapshot.policy(), *address);
    std::optional<policy::KnownComputer> known;
    if (computer)
      known = policy::KnownComputer{inventory::to_string(computer->role), computer->version};
    identity = snapshot.identify(&*address, "", known ? &*known : nullptr);
  } else if (user) {
    identity = snapshot.identify(nullptr, *user);
  } else if (role) {
    const int index = snapshot.policy().find_role(*role);
    if (index < 0 && *role != "any")
      return usage_error(command_line(), "unknown role '" + *role + "'");
    identity = snapshot.identity_for(index < 0 ? policy::kAnyRole : index, parsed_version);
  } else {
    identity = snapshot.identity_for(snapshot.policy().default_role, parsed_version);
  }
  if (parsed_version && (client || user)) {
    const policy::IdentitySource found_by = identity.source;
    identity = snapshot.identity_for(identity.role, parsed_version);
    identity.source = found_by;
  }

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
      .string_or_null("version", snapshot.version_label(identity))
      .field("identity", policy::to_string(identity.source));
  if (computer) json.field("computer", computer->name).field("computer_id", computer->id);
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

}  // namespace

// Its table, for `chokepoint help` and the dispatcher.
static const config::CommandInfo& info() {
  return command_line().info();
}

const Command kExplainCommand{&info, &explain};

}  // namespace chokepoint::app
