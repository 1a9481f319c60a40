// Config files, included files and the users file are refused when anyone
// but root or the running user could have written them (sshd's StrictModes;
// core/trusted_file.hpp). Each rule is exercised through the loaders, the
// way every such file is read. Changing owners needs root: those cases say
// so and check nothing elsewhere.
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chokepoint/auth/password_hash.hpp>
#include <chokepoint/policy/loader.hpp>

using namespace chokepoint;

namespace {

constexpr const char* kPolicy = "version: 1\nrules:\n  - {id: r, destinations: [a.example.com]}\n";

// A private directory (0700, ours) under /tmp, which is sticky: what the
// tests build inside it starts out trusted.
struct PrivateDir {
  std::string path;
  PrivateDir() {
    char name[] = "/tmp/chokepoint-trust-XXXXXX";
    path = ::mkdtemp(name);
  }
  ~PrivateDir() { std::filesystem::remove_all(path); }
  std::string dir(const std::string& name, mode_t mode) const {
    const std::string p = path + "/" + name;
    std::filesystem::create_directories(p);
    ::chmod(p.c_str(), mode);
    return p;
  }
  std::string file(const std::string& name, const std::string& text, mode_t mode = 0644) const {
    const std::string p = path + "/" + name;
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
    return p;
  }
};

uid_t nobody() {
  const passwd* entry = ::getpwnam("nobody");
  return entry ? entry->pw_uid : 65534;
}

bool root() {
  if (::geteuid() == 0) return true;
  WARN("not root: owners cannot be changed, this case checks nothing");
  return false;
}

std::string problems(const Diagnostics& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics)
    out += d.to_string() + "\n";
  return out;
}

// The config at `path` is refused, with one message that starts with
// `path: ` and contains `says`.
void refused(const std::string& path, const std::string& says) {
  const auto result = policy::load_config_file(path);
  INFO(problems(result.diagnostics()));
  REQUIRE_FALSE(result.ok());
  REQUIRE(result.diagnostics().size() == 1);
  CHECK(result.diagnostics()[0].to_string().rfind(path + ": ", 0) == 0);
  CHECK(result.diagnostics()[0].message.find(says) != std::string::npos);
}

void accepted(const std::string& path) {
  const auto result = policy::load_config_file(path);
  INFO(problems(result.diagnostics()));
  CHECK(result.ok());
}

}  // namespace

TEST_CASE("trusted files: writable by others or by the group", "[policy][trust]") {
  PrivateDir d;
  refused(d.file("others.yaml", kPolicy, 0646), "writable by other users");
  refused(d.file("group.yaml", kPolicy, 0664), "writable by its group");
  accepted(d.file("fine.yaml", kPolicy, 0644));
  accepted(d.file("private.yaml", kPolicy, 0600));
}

TEST_CASE("trusted files: a writable directory anywhere above", "[policy][trust]") {
  PrivateDir d;
  const std::string group = d.dir("group", 0775);
  d.dir("group/deeper", 0755);
  refused(d.file("group/deeper/policy.yaml", kPolicy),
          "its directory " + group + " is writable by its group, who could replace the file");
  const std::string open = d.dir("open", 0777);
  refused(d.file("open/policy.yaml", kPolicy), "its directory " + open + " is writable by other");
}

TEST_CASE("trusted files: owned by someone else", "[policy][trust]") {
  if (!root()) return;
  PrivateDir d;
  const std::string file = d.file("theirs.yaml", kPolicy);
  REQUIRE(::chown(file.c_str(), nobody(), 0) == 0);
  refused(file, "owned by uid " + std::to_string(nobody()) + " (nobody)");

  const std::string dir = d.dir("theirs", 0755);
  REQUIRE(::chown(dir.c_str(), nobody(), 0) == 0);
  refused(d.file("theirs/policy.yaml", kPolicy), "its directory " + dir + " is owned by uid");
}

TEST_CASE("trusted files: a sticky directory such as /tmp", "[policy][trust]") {
  PrivateDir d;
  d.dir("sticky", 01777);
  accepted(d.file("sticky/mine.yaml", kPolicy));
  d.dir("sticky/mine", 0755);
  accepted(d.file("sticky/mine/policy.yaml", kPolicy));
  // Without the sticky bit, anyone could rename their own file over it.
  d.dir("plain", 0777);
  refused(d.file("plain/mine.yaml", kPolicy), "writable by other users");
  if (!root()) return;
  const std::string theirs = d.file("sticky/theirs.yaml", kPolicy);
  REQUIRE(::chown(theirs.c_str(), nobody(), 0) == 0);
  refused(theirs, "owned by uid");
  const std::string dir = d.dir("sticky/theirs", 0755);
  REQUIRE(::chown(dir.c_str(), nobody(), 0) == 0);
  refused(d.file("sticky/theirs/policy.yaml", kPolicy), "its directory " + dir + " is owned by");
}

TEST_CASE("trusted files: the real directories, whatever links lead there", "[policy][trust]") {
  PrivateDir d;
  const std::string open = d.dir("open", 0777);
  const std::string target = d.file("open/policy.yaml", kPolicy);
  const std::string link = d.path + "/policy.yaml";
  std::filesystem::create_symlink(target, link);
  refused(link, "its directory " + open + " is writable by other users");

  const std::string hidden = d.dir("open/sub", 0755);
  std::filesystem::create_directory_symlink(hidden, d.path + "/sub");
  d.file("open/sub/policy.yaml", kPolicy);
  refused(d.path + "/sub/policy.yaml", "its directory " + open + " is writable");
}

TEST_CASE("trusted files: only regular files", "[policy][trust]") {
  PrivateDir d;
  const std::string fifo = d.path + "/policy.yaml";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Opening a FIFO with no writer would block: a reload must not hang on one.
  std::thread unblock([&] {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) ::close(fd);
  });
  const auto start = std::chrono::steady_clock::now();
  refused(fifo, "not a regular file");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  unblock.join();
}

TEST_CASE("trusted files: included files and the users file too", "[policy][trust]") {
  PrivateDir d;
  const std::string open = d.dir("open", 0777);
  d.file("open/base.yaml", kPolicy);
  const std::string site = d.file("site.yaml", "version: 1\ninclude: [open/base.yaml]\n");
  const auto result = policy::load_config_file(site);
  INFO(problems(result.diagnostics()));
  REQUIRE_FALSE(result.ok());
  CHECK(result.diagnostics()[0].to_string().rfind(site + ":2:11: " + open + "/base.yaml: ", 0) ==
        0);
  CHECK(result.diagnostics()[0].message.find("its directory " + open) != std::string::npos);

  const std::string users =
      d.file("open/users", "relay01:" + auth::hash_password("pw", 1000).to_string() + "\n", 0640);
  const auto loaded = auth::load_users(users);
  INFO(problems(loaded.diagnostics()));
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.diagnostics()[0].to_string().rfind(users + ": its directory " + open, 0) == 0);
  CHECK(auth::load_users(
            d.file("users", "relay01:" + auth::hash_password("pw", 1000).to_string() + "\n", 0640))
            .ok());
}
