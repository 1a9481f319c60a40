// Watching the files a policy was loaded from (and the users file) with
// inotify, on the control thread. It watches their directories, because
// editors and Kubernetes ConfigMaps replace files (rename, a swapped `..data`
// symlink) rather than write them in place, and reports a change once a
// burst of events has settled. Other files in those directories (an audit
// log beside the policy, editors' swap files) are ignored.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/posix/stream_descriptor.hpp>

#include <chokepoint/core/asio.hpp>

namespace chokepoint::control {

class FileWatch {
 public:
  // `changed` runs on `io`'s thread after the events settle.
  FileWatch(asio::io_context& io, std::function<void()> changed);
  ~FileWatch();

  // Starts watching `files` (names that are not paths, like the built-in
  // catalog's, are skipped). False, with `error`, when inotify is unavailable;
  // a directory that cannot be watched is only reported.
  bool start(const std::vector<std::string>& files, std::string& error);
  void stop();

 private:
  void read_events();

  asio::io_context& io_;
  std::function<void()> changed_;
  std::unique_ptr<asio::posix::stream_descriptor> inotify_;
  asio::steady_timer settle_;
  std::set<std::string> names_;  // the watched files' names, in the watched directories
};

}  // namespace chokepoint::control
