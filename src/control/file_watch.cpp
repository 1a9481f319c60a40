#include "file_watch.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sys/inotify.h>
#include <unistd.h>

#include <chokepoint/log/log.hpp>
#include <chokepoint/policy/loader.hpp>

namespace chokepoint::control {
namespace {

// Changes come in bursts (a write, then a rename): act once they settle.
constexpr std::chrono::milliseconds kSettle{250};

}  // namespace

FileWatch::FileWatch(asio::io_context& io, std::function<void()> changed)
    : io_(io), changed_(std::move(changed)), settle_(io) {}

FileWatch::~FileWatch() = default;

bool FileWatch::start(const std::vector<std::string>& files, std::string& error) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    error = "inotify: " + std::string(std::strerror(errno));
    return false;
  }
  std::set<std::string> directories;
  for (const auto& file : files) {
    if (policy::names_builtin(file)) continue;  // compiled in: nothing to watch
    const auto path = std::filesystem::absolute(file);
    directories.insert(path.parent_path().string());
    names_.insert(path.filename().string());
  }
  // A ConfigMap volume updates by renaming a new `..data` symlink into place.
  names_.insert("..data");
  for (const auto& directory : directories) {
    if (::inotify_add_watch(fd, directory.c_str(),
                            IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB) < 0) {
      const int error = errno;
      log::Message(log::Level::Warning)
          << "cannot watch " << directory << ": " << std::strerror(error)
          << "; reload with SIGHUP or POST /reload";
    }
  }
  inotify_ = std::make_unique<asio::posix::stream_descriptor>(io_, fd);
  read_events();
  return true;
}

void FileWatch::stop() {
  settle_.cancel();
  if (inotify_) {
    error_code ignored;
    inotify_->close(ignored);
  }
}

void FileWatch::read_events() {
  inotify_->async_wait(asio::posix::stream_descriptor::wait_read, [this](const error_code& ec) {
    if (ec) return;
    alignas(inotify_event) char events[4096];
    bool ours = false;
    ssize_t n = 0;
    while ((n = ::read(inotify_->native_handle(), events, sizeof events)) > 0) {
      for (ssize_t at = 0; at < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(events + at);
        if (event->len > 0 && names_.count(event->name) > 0) ours = true;
        at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      }
    }
    if (ours) {
      settle_.expires_after(kSettle);
      settle_.async_wait([this](const error_code& timer_ec) {
        if (!timer_ec) changed_();
      });
    }
    read_events();
  });
}

}  // namespace chokepoint::control
