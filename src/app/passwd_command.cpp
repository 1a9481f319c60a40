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

struct PasswdArgs {
  std::string file;
  std::size_t iterations = auth::kDefaultIterations;
  std::optional<std::string> user;
};

const config::CommandLine<PasswdArgs>& command_line() {
  using config::operand;
  using config::option;
  static const config::CommandLine<PasswdArgs> line(
      {"passwd", "add or change a proxy user (password on stdin)",
       "Adds USER to the users file, or changes their password; the password is read from "
       "stdin (without echo on a terminal)."},
      {option("--users-file", "FILE", "the users file (written anew, keeping its owner and mode)",
              &PasswdArgs::file)
           .required("missing --users-file"),
       option("--iterations", "N",
              "PBKDF2-HMAC-SHA256 iterations (default: " +
                  std::to_string(auth::kDefaultIterations) + ")",
              &PasswdArgs::iterations, config::Range{1000, 1'000'000'000}),
       operand("USER", "the user's name (no ':')", &PasswdArgs::user).required("missing USER")});
  return line;
}

int passwd(const Words& words) {
  PasswdArgs args;
  if (const auto exit = read_args(command_line(), words, args)) return *exit;
  const std::string& file = args.file;
  const std::string& user = *args.user;
  if (user.empty() || user.find(':') != std::string::npos)
    return usage_error(command_line(), "bad user name '" + user + "' (empty, or with ':')");
  const auto iterations = static_cast<std::uint32_t>(args.iterations);
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

}  // namespace

// Its table, for `chokepoint help` and the dispatcher.
static const config::CommandInfo& info() {
  return command_line().info();
}

const Command kPasswdCommand{&info, &passwd};

}  // namespace chokepoint::app
