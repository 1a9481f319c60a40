// `chokepoint inventory`: fetches the manager's computer list once, as a
// running proxy would, and prints who each address is (DESIGN.md, "Clients
// from the manager"): an operator's way to see what the inventory will
// decide before the proxy uses it.
#include <iostream>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>
#include <chokepoint/inventory/inventory.hpp>
#include <chokepoint/inventory/listing.hpp>
#include <chokepoint/inventory/manager_client.hpp>

namespace chokepoint::app {
namespace {

struct InventoryArgs {
  std::string config_path;
  std::string format = "text";
};

const config::CommandLine<InventoryArgs>& command_line() {
  using config::option;
  static const config::CommandLine<InventoryArgs> line(
      {"inventory", "fetch the manager's computer list once; print address -> computer",
       "Fetches the Deep Security Manager's computer list as the policy's inventory section "
       "says, once, and prints every address with its computer, role and version, then the "
       "addresses two computers claim (they map to neither). Exit 1 when the manager could "
       "not be asked."},
      {option("--config", "FILE", "the configuration with an inventory section",
              &InventoryArgs::config_path)
           .required("missing --config (the built-in catalogs name no manager)"),
       option("--format", "text|json", "how to print it (default: text)", &InventoryArgs::format)});
  return line;
}

std::string version_or_dash(const inventory::Client& client) {
  return client.version ? client.version->to_string() : "-";
}

void print_text(const inventory::Inventory& inventory) {
  std::cout << "address\tcomputer\tid\trole\tversion\n";
  for (const auto& [address, client] : inventory.entries()) {
    std::cout << address.to_string() << '\t' << client->name << '\t' << client->id << '\t'
              << inventory::to_string(client->role) << '\t' << version_or_dash(*client) << '\n';
  }
  for (const auto& shared : inventory.ambiguous()) {
    std::cout << shared.address.to_string() << "\tambiguous: computers";
    for (const auto id : shared.computer_ids)
      std::cout << ' ' << id;
    std::cout << '\n';
  }
  std::cout << inventory.computers() << " computers, " << inventory.clients() << " with an agent ("
            << inventory.relays() << " relays), " << inventory.addresses() << " addresses, "
            << inventory.ambiguous().size() << " ambiguous\n";
}

int inventory_command(const Words& words) {
  InventoryArgs args;
  if (const auto exit = read_args(command_line(), words, args)) return *exit;
  if (args.format != "text" && args.format != "json")
    return usage_error(command_line(), "--format must be text or json, not '" + args.format + "'");
  auto config = load_or_report(args.config_path, std::cerr);
  if (!config) return kExitUsage;
  const auto& source = config->policy.policy.inventory;
  if (!source) return usage_error(command_line(), args.config_path + " has no inventory section");
  // A key others can read is a configuration error (exit 2), refused
  // before anything is asked.
  if (const auto key = inventory::read_api_key(source->key_file); !key) {
    print_diagnostics(key.diagnostics(), std::cerr);
    return kExitUsage;
  }
  inventory::ComputerList computers;
  const inventory::FetchResult fetched = inventory::fetch_computers_once(*source, computers);
  if (fetched.error != inventory::FetchError::None) {
    std::cerr << "chokepoint inventory: " << source->url << ": " << fetched.detail << '\n';
    return kExitDenied;
  }
  const auto inventory =
      inventory::Inventory::build(computers.computers(), source->relay_host_names);
  if (args.format == "json") {
    std::cout << inventory::listing_json(*inventory) << '\n';
  } else {
    print_text(*inventory);
  }
  return kExitOk;
}

}  // namespace

// Its table, for `chokepoint help` and the dispatcher.
static const config::CommandInfo& info() {
  return command_line().info();
}

const Command kInventoryCommand{&info, &inventory_command};

}  // namespace chokepoint::app
