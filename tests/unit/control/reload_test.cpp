// The reload transaction on real files, a real Authenticator and a real
// policy: a bad policy or a bad users file changes nothing; good ones change
// both together.
#include <filesystem>
#include <fstream>
#include <future>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <openssl/evp.h>

#include <chokepoint/control/reload.hpp>
#include <chokepoint/policy/loader.hpp>

using namespace chokepoint;
using namespace chokepoint::control;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char name[] = "/tmp/chokepoint-reload-XXXXXX";
    path = ::mkdtemp(name);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    const auto file = path / name;
    std::ofstream(file) << text;
    std::filesystem::permissions(file, std::filesystem::perms::others_write,
                                 std::filesystem::perm_options::remove);
    return file.string();
  }
};

std::string sha256(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

std::string user_line(const std::string& name, const std::string& password) {
  return name + ":" + auth::hash_password(password, 1000).to_string() + "\n";
}

// Whether `authenticator` lets `name` in with `password`.
bool lets_in(auth::Authenticator& authenticator, const std::string& name,
             const std::string& password) {
  asio::io_context io;
  auth::Outcome outcome = auth::Outcome::Missing;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        std::string user;
        const std::string header = "Basic " + auth::base64_encode(name + ":" + password);
        const auth::Verdict verdict = co_await authenticator.check(0, header, user, Requester{});
        outcome = verdict.outcome;
      },
      asio::detached);
  io.run();
  return outcome == auth::Outcome::Ok;
}

const std::string kOneRule =
    "version: 1\nrules:\n  - {id: one, action: allow, destinations: [a.example.com]}\n";
const std::string kTwoRules =
    "version: 1\nrules:\n  - {id: one, action: allow, destinations: [a.example.com]}\n"
    "  - {id: two, action: allow, destinations: [b.example.com]}\n";
const std::string kBadPolicy =
    "version: 1\nrules:\n  - {id: one, action: allow, destinations: ['*']}\n";

// The proxy the reload lands in: a real Authenticator; the policy as Server
// would receive it.
struct Proxy {
  std::shared_ptr<const policy::Snapshot> policy;
  int swaps = 0;
  auth::Authenticator authenticator;
  ReloadTarget target{[this](std::shared_ptr<const policy::Snapshot> snapshot) {
                        policy = std::move(snapshot);
                        ++swaps;
                      },
                      &authenticator};
  explicit Proxy(std::map<std::string, auth::PasswordHash> users)
      : authenticator(std::move(users), auth::AuthOptions{}) {}
};

}  // namespace

TEST_CASE("reload: a bad policy changes neither the policy nor the users", "[control][reload]") {
  TempDir dir;
  const std::string config = dir.write("policy.yaml", kOneRule);
  const std::string users = dir.write("users", user_line("alice", "old-password"));
  Proxy proxy(auth::load_users(users).value());
  auto first = prepare_reload(ReloadSource{config, users, true});
  REQUIRE(first.ok());
  RunningPolicy running =
      RunningPolicy::started(config, first.value().sha256, first.value().snapshot);

  dir.write("policy.yaml", kBadPolicy);
  dir.write("users", user_line("bob", "new-password"));
  const auto prepared = prepare_reload(ReloadSource{config, users, true});
  REQUIRE_FALSE(prepared.ok());
  const auto outcome = reload(ReloadSource{config, users, true}, proxy.target, running);
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.message.find(config + ":3:") != std::string::npos);
  CHECK(proxy.swaps == 0);
  CHECK(lets_in(proxy.authenticator, "alice", "old-password"));
  CHECK_FALSE(lets_in(proxy.authenticator, "bob", "new-password"));
  CHECK(running.generation == 1);
  CHECK(running.reloads == 0);
  CHECK(running.reload_failures == 1);
  CHECK(running.sha256 == sha256(kOneRule));
  CHECK(running.rules == 1);
}

TEST_CASE("reload: a bad users file changes neither the users nor the policy",
          "[control][reload]") {
  TempDir dir;
  const std::string config = dir.write("policy.yaml", kOneRule);
  const std::string users = dir.write("users", user_line("alice", "old-password"));
  Proxy proxy(auth::load_users(users).value());
  RunningPolicy running;
  running.sha256 = sha256(kOneRule);
  running.rules = 1;

  dir.write("policy.yaml", kTwoRules);
  dir.write("users", "bob has no hash\n");
  const auto outcome = reload(ReloadSource{config, users, true}, proxy.target, running);
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.message.find(users + ":1:") != std::string::npos);
  CHECK(proxy.swaps == 0);
  CHECK(lets_in(proxy.authenticator, "alice", "old-password"));
  CHECK(running.generation == 1);
  CHECK(running.reload_failures == 1);
  CHECK(running.sha256 == sha256(kOneRule));
  CHECK(running.rules == 1);

  // Both bad: one answer names the problems of both.
  dir.write("policy.yaml", kBadPolicy);
  const auto both = prepare_reload(ReloadSource{config, users, true});
  REQUIRE_FALSE(both.ok());
  std::string all;
  for (const auto& d : both.diagnostics())
    all += d.to_string() + "\n";
  CHECK(all.find(config + ":3:") != std::string::npos);
  CHECK(all.find(users + ":1:") != std::string::npos);
}

TEST_CASE("reload: a good policy and users file change together", "[control][reload]") {
  TempDir dir;
  const std::string config = dir.write("policy.yaml", kOneRule);
  const std::string users = dir.write("users", user_line("alice", "old-password"));
  Proxy proxy(auth::load_users(users).value());
  RunningPolicy running;
  running.source = config;
  running.sha256 = sha256(kOneRule);
  running.rules = 1;

  dir.write("policy.yaml", kTwoRules);
  dir.write("users", user_line("bob", "new-password"));
  const auto outcome = reload(ReloadSource{config, users, true}, proxy.target, running);
  INFO(outcome.message);
  CHECK(outcome.ok);
  CHECK(proxy.swaps == 1);
  REQUIRE(proxy.policy);
  CHECK(proxy.policy->policy().rules.size() == 2);
  CHECK(lets_in(proxy.authenticator, "bob", "new-password"));
  CHECK_FALSE(lets_in(proxy.authenticator, "alice", "old-password"));
  CHECK(running.generation == 2);
  CHECK(running.reloads == 1);
  CHECK(running.reload_failures == 0);
  CHECK(running.rules == 2);
  CHECK(running.sha256 == sha256(kTwoRules));  // of the bytes the loader read
  CHECK(outcome.message.find("loaded " + config + " (2 rules, sha256 " +
                             sha256(kTwoRules).substr(0, 12) + "), 1 users from " + users) !=
        std::string::npos);
}

TEST_CASE("reload: without proxy authentication the users file is not read", "[control][reload]") {
  TempDir dir;
  const std::string config = dir.write("policy.yaml", kTwoRules);
  std::shared_ptr<const policy::Snapshot> swapped;
  const ReloadTarget target{
      [&swapped](std::shared_ptr<const policy::Snapshot> s) { swapped = std::move(s); }, nullptr};
  RunningPolicy running;
  const auto outcome =
      reload(ReloadSource{config, (dir.path / "absent").string(), false}, target, running);
  CHECK(outcome.ok);
  REQUIRE(swapped);
  CHECK(swapped->policy().rules.size() == 2);
}

TEST_CASE("reload: the built-in catalog when there is no config file", "[control][reload]") {
  const auto prepared = prepare_reload(ReloadSource{});
  REQUIRE(prepared.ok());
  CHECK(prepared.value().sha256 == sha256(std::string(policy::builtin_catalog_text())));
  CHECK(prepared.value().snapshot->policy().files[0] == policy::kBuiltinCatalogName);
}
