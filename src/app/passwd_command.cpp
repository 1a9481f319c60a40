#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
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
  const std::string temp = file + ".tmp";
  {
    std::ofstream write(temp, std::ios::trunc);
    write << out.str();
    if (!write) {
      std::cerr << "chokepoint passwd: cannot write " << temp << '\n';
      return kExitUsage;
    }
  }
  std::filesystem::permissions(temp, std::filesystem::perms::owner_read |
                                         std::filesystem::perms::owner_write |
                                         std::filesystem::perms::group_read);
  std::filesystem::rename(temp, file);
  return kExitOk;
}

}  // namespace chokepoint::app
