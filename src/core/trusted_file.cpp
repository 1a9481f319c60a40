#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <vector>

#include <chokepoint/core/trusted_file.hpp>

namespace chokepoint {
namespace {

class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Result<std::string> refused(const std::string& path, std::string message) {
  return Result<std::string>::failure(
      {Diagnostic{path, 0, 0, Severity::Error, std::move(message)}});
}

std::string user_text(uid_t uid) {
  std::string text = "uid " + std::to_string(uid);
  struct passwd entry {};
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found)
    text += " (" + std::string(found->pw_name) + ")";
  return text;
}

bool trusted_owner(uid_t uid) {
  return uid == 0 || uid == ::geteuid();
}

std::string trusted_users() {
  const uid_t self = ::geteuid();
  return self == 0 ? "root" : "root or " + user_text(self) + ", the user chokepoint runs as";
}

// The real path of what `fd` is open on: the kernel's name for it, so that
// the directories checked are the ones the bytes came from, whatever links
// `path` went through. Empty when it cannot be told for sure.
std::string real_path_of(int fd, const std::string& path, const struct stat& opened) {
  char resolved[PATH_MAX];
  const std::string by_descriptor = "/proc/self/fd/" + std::to_string(fd);
  // Without /proc, the path resolved now; the device and inode comparison
  // below tells whether it still names what was opened.
  if (!::realpath(by_descriptor.c_str(), resolved) && !::realpath(path.c_str(), resolved))
    return {};
  // A file renamed or removed since it was opened has no such name (or
  // another file has it now).
  struct stat named {};
  if (::lstat(resolved, &named) != 0 || named.st_dev != opened.st_dev ||
      named.st_ino != opened.st_ino)
    return {};
  return resolved;
}

std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

// Why someone other than root or this user could change the file through
// `st`: the file itself (`directory` empty) or a directory on its real
// path. Empty when no one could.
std::string who_else_can_write(const struct stat& st, const std::string& real,
                               const std::string& directory, bool read_only_mount) {
  const bool is_file = directory.empty();
  const std::string subject = is_file ? std::string() : "its directory " + directory + " is ";
  const std::string target = is_file ? real : directory;
  if (!trusted_owner(st.st_uid)) {
    return subject + "owned by " + user_text(st.st_uid) + ", " +
           (is_file ? "not by " + trusted_users() : "who could replace the file") +
           "; refusing it (chown root " + target + ")";
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) == 0 || read_only_mount) return {};
  // In a sticky directory only an entry's owner may rename or remove it,
  // and the entry below this one was found to be root's or this user's.
  if (!is_file && (st.st_mode & S_ISVTX) != 0) return {};
  const bool others = (st.st_mode & S_IWOTH) != 0;
  return subject + (others ? "writable by other users" : "writable by its group") +
         (is_file ? "" : ", who could replace the file") + "; refusing it (chmod " +
         (others ? "o-w " : "g-w ") + target + (is_file ? "" : ", or chmod +t " + target) + ")";
}

bool read_only_mount(int fd) {
  struct statvfs vfs {};
  return ::fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY) != 0;
}

bool read_only_mount(const std::string& directory) {
  struct statvfs vfs {};
  return ::statvfs(directory.c_str(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY) != 0;
}

}  // namespace

Result<std::string> read_trusted_file(const std::string& path) {
  // O_NONBLOCK: a FIFO put in the file's place must be refused below, not
  // hang a reload in open(2). It changes nothing for a regular file.
  const Descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return refused(path, std::string("cannot read: ") + std::strerror(errno));
  struct stat file {};
  if (::fstat(fd.get(), &file) != 0)
    return refused(path, std::string("cannot read: ") + std::strerror(errno));
  if (!S_ISREG(file.st_mode)) return refused(path, "not a regular file; refusing it");

  const std::string real = real_path_of(fd.get(), path, file);
  if (real.empty()) {
    return refused(path,
                   "renamed or removed while it was being opened; refusing it this time (its "
                   "directories could not be checked)");
  }
  if (auto why = who_else_can_write(file, real, {}, read_only_mount(fd.get())); !why.empty())
    return refused(path, std::move(why));
  std::string directory = real;
  do {
    directory = parent_of(directory);
    struct stat st {};
    // lstat: the real path has no links, so one appearing now is a swap.
    if (::lstat(directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return refused(path, "its directory " + directory +
                               " changed while the file was being opened; refusing it this time");
    }
    if (auto why = who_else_can_write(st, real, directory, read_only_mount(directory));
        !why.empty())
      return refused(path, std::move(why));
  } while (directory != "/");

  std::string text;
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return refused(path, std::string("cannot read: ") + std::strerror(errno));
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return Result<std::string>(std::move(text));
}

}  // namespace chokepoint
