#include <cerrno>
#include <cstring>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

#include <chokepoint/app/privileges.hpp>

namespace chokepoint::app {
namespace {

std::string failed(const char* step) {
  return std::string(step) + ": " + std::strerror(errno);
}

// glibc has no capset wrapper and libcap is one more dependency for one call.
bool clear_capabilities(std::string& error) {
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    error = failed("clearing ambient capabilities");
    return false;
  }
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (::syscall(SYS_capset, &header, data) != 0) {
    error = failed("clearing capabilities");
    return false;
  }
  return true;
}

}  // namespace

bool running_as_root() {
  return ::geteuid() == 0;
}

bool drop_privileges(const std::string& user, std::string& error) {
  if (!user.empty()) {
    if (!running_as_root()) {
      error = "--user " + user + " needs the proxy to start as root";
      return false;
    }
    errno = 0;
    const passwd* entry = ::getpwnam(user.c_str());
    if (entry == nullptr) {
      error = "no such user '" + user + "'";
      return false;
    }
    const uid_t uid = entry->pw_uid;
    const gid_t gid = entry->pw_gid;
    if (uid == 0) {
      error = "--user " + user + " is root; name an unprivileged user";
      return false;
    }
    // Groups first: after setuid there is no right left to change them.
    if (::setgroups(0, nullptr) != 0) {
      error = failed("setgroups");
      return false;
    }
    if (::setresgid(gid, gid, gid) != 0) {
      error = failed("setresgid");
      return false;
    }
    if (::setresuid(uid, uid, uid) != 0) {
      error = failed("setresuid");
      return false;
    }
    if (::setuid(0) == 0) {
      error = "still able to become root after dropping privileges";
      return false;
    }
  }
  if (!clear_capabilities(error)) return false;
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    error = failed("no_new_privs");
    return false;
  }
  return true;
}

}  // namespace chokepoint::app
