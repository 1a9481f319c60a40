#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>
#include <chokepoint/auth/password_hash.hpp>

namespace chokepoint::app {
namespace {

std::string read_password() {
  const bool tty = ::isatty(STDIN_FILENO);
  termios saved{};
  if (tty) {
    std::cerr << "password: " << std::flush;
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string password;
  std::getline(std::cin, password);
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << '\n';
  }
  return password;
}

}  // namespace

int passwd_command(Args& args) {
  std::string file;
  std::string user;
  std::uint32_t iterations = auth::kDefaultIterations;
  while (!args.done()) {
    std::string error;
    if (auto f = args.option("--users-file", error)) {
      file = *f;
    } else if (auto i = args.option("--iterations", error)) {
      iterations = static_cast<std::uint32_t>(std::strtoul(i->c_str(), nullptr, 10));
    } else if (!error.empty() || args.peek().substr(0, 2) == "--" || !user.empty()) {
      std::cerr << "chokepoint passwd: "
                << (error.empty() ? "unexpected argument '" + args.peek() + "'" : error) << '\n';
      return kExitUsage;
    } else {
      user = args.take();
    }
  }
  if (file.empty() || user.empty() || user.find(':') != std::string::npos || iterations < 1000) {
    std::cerr << "usage: chokepoint passwd --users-file FILE [--iterations N>=1000] USER   "
                 "(password on stdin)\n";
    return kExitUsage;
  }
  const std::string password = read_password();
  if (password.empty()) {
    std::cerr << "chokepoint passwd: empty password\n";
    return kExitUsage;
  }
  const std::string entry = user + ':' + auth::hash_password(password, iterations).to_string();

  // Keep every other line; replace this user's, or append it.
  std::ostringstream out;
  bool replaced = false;
  if (std::ifstream in(file); in) {
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(user + ':', 0) == 0) {
        out << entry << '\n';
        replaced = true;
      } else {
        out << line << '\n';
      }
    }
  }
  if (!replaced) out << entry << '\n';
  // A new file renamed over the old one, so a reading proxy never sees half
  // of it. It keeps the old file's owner, group and mode (an operator gives
  // the service's group read access, and reloads re-read it as that user);
  // a first file is 0640. Others never get any access, not even while it is
  // being written.
  const std::string temp = file + ".tmp";
  struct stat old {};
  const bool existed = ::stat(file.c_str(), &old) == 0;
  const mode_t mode = existed ? (old.st_mode & 0770) : 0640;
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    std::cerr << "chokepoint passwd: cannot write " << temp << ": " << std::strerror(errno) << '\n';
    return kExitUsage;
  }
  const std::string text = out.str();
  bool written = true;
  for (std::size_t at = 0; written && at < text.size();) {
    const ssize_t n = ::write(fd, text.data() + at, text.size() - at);
    if (n < 0 && errno == EINTR) continue;
    written = n > 0;
    if (written) at += static_cast<std::size_t>(n);
  }
  // Only root can give the file away; anyone else keeps it as their own.
  if (existed) (void)::fchown(fd, old.st_uid, old.st_gid);
  written = written && ::fchmod(fd, mode) == 0 && ::fsync(fd) == 0;
  written = ::close(fd) == 0 && written;
  if (!written || ::rename(temp.c_str(), file.c_str()) != 0) {
    std::cerr << "chokepoint passwd: cannot write " << file << ": " << std::strerror(errno) << '\n';
    ::unlink(temp.c_str());
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace chokepoint::app
