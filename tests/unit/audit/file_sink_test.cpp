// The file sink on a disk that fills up and gets space back (a real tmpfs,
// when this process may mount one), on /dev/full, and on a pipe whose
// reader goes away mid-write: the file always ends on a record boundary or
// the next record starts a line of its own, and every record is either
// written whole or counted as lost.
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <thread>
#include <tuple>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chokepoint/audit/log.hpp>
#include <chokepoint/audit/sink.hpp>

using namespace chokepoint;
using namespace chokepoint::audit;
namespace fs = std::filesystem;

namespace {

Record record(std::uint64_t n, std::size_t detail_bytes = 600) {
  Record r;
  r.ts = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  r.event = Event::Deny;
  r.id = "t-0-" + std::to_string(n);
  r.client = "10.0.8.23:51514";
  r.host = "evil.example.com";
  r.port = 443;
  r.decision = Decision::Deny;
  r.reason = Reason::NoMatchingRule;
  r.detail = std::string(detail_bytes, 'd');
  return r;
}

std::vector<Record> batch(std::uint64_t& next, std::size_t n, std::size_t detail_bytes = 600) {
  std::vector<Record> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(record(next++, detail_bytes));
  return out;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

// A whole record line: what to_json_line writes, from '{' to its last '}'.
bool whole(const std::string& line) {
  return line.size() > 2 && line.front() == '{' && line.back() == '}' &&
         line.find("\"id\":\"t-0-") != std::string::npos &&
         line.find("\"enforced\":") != std::string::npos;
}

// A tmpfs of `bytes` mounted on a fresh directory; empty when mounting is
// not permitted here (not root, or no CAP_SYS_ADMIN).
struct SmallTmpfs {
  explicit SmallTmpfs(std::size_t bytes) {
    char templ[] = "/tmp/chokepoint-tmpfs-XXXXXX";
    if (!::mkdtemp(templ)) return;
    dir = templ;
    const std::string options = "size=" + std::to_string(bytes);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      why = std::string("mount -t tmpfs: ") + std::strerror(errno);
      ::rmdir(dir.c_str());
      dir.clear();
    }
  }
  ~SmallTmpfs() {
    if (dir.empty()) return;
    ::umount2(dir.c_str(), MNT_DETACH);
    ::rmdir(dir.c_str());
  }
  std::string dir;
  std::string why;
};

// Fills the file system of `dir` up to `leave` free bytes with a file of its own.
void fill(const std::string& path, std::size_t bytes) {
  std::ofstream out(path, std::ios::binary);
  const std::string block(4096, 'f');
  for (std::size_t done = 0; done < bytes && out; done += block.size())
    out.write(block.data(), static_cast<std::streamsize>(block.size()));
}

}  // namespace

TEST_CASE("file sink: a disk that fills up and gets space back leaves only whole lines",
          "[audit][file_sink]") {
  SmallTmpfs tmpfs(256 * 1024);
  if (tmpfs.dir.empty()) {
    WARN("SKIPPED: cannot mount a small tmpfs here (" << tmpfs.why << "); CI runs this as root");
    return;
  }
  const std::string path = tmpfs.dir + "/audit.jsonl";
  const std::string filler = tmpfs.dir + "/filler";
  fill(filler, 200 * 1024);
  chokepoint::log::Recorded log;
  std::string error;
  FileSinkOptions options;
  options.log = &log;
  options.log_interval = std::chrono::hours(1);
  options.retry_room = 16 * 1024;
  auto sink = make_file_sink(path, error, options);
  REQUIRE(sink);

  std::uint64_t next = 0;
  std::uint64_t emitted = 0;
  int failed_batches = 0;
  // Odd batch sizes and record sizes, so writes stop in the middle of lines.
  for (int i = 0; i < 200 && failed_batches < 20; ++i) {
    auto records = batch(next, 1 + static_cast<std::size_t>(i % 7), 300 + 97 * (i % 5));
    emitted += records.size();
    const auto lost_before = sink->stats().lost;
    sink->write(records);
    if (sink->stats().lost != lost_before) ++failed_batches;
  }
  REQUIRE(failed_batches == 20);
  CHECK(sink->health().failing);
  CHECK(sink->health().error == std::strerror(ENOSPC));
  sink->retry();  // no room yet: still failing
  CHECK(sink->health().failing);

  // Space comes back: the sink finds it, and writes again.
  fs::remove(filler);
  sink->retry();
  CHECK_FALSE(sink->health().failing);
  auto records = batch(next, 5);
  emitted += records.size();
  sink->write(records);
  CHECK_FALSE(sink->health().failing);

  const auto lines = lines_of(path);
  for (const auto& line : lines) {
    INFO(line.substr(0, 80));
    CHECK(whole(line));
  }
  const SinkStats stats = sink->stats();
  CHECK(lines.size() == stats.written);
  CHECK(stats.written + stats.lost == emitted);
  CHECK(stats.lost > 0);
  // The last five are the ones written after space came back.
  REQUIRE(lines.size() >= 5);
  CHECK(lines.back().find("\"id\":\"t-0-" + std::to_string(next - 1) + "\"") != std::string::npos);
  // Twenty failed writes, one line when it began and one when it ended.
  const std::string said = log.text();
  CHECK(std::count(said.begin(), said.end(), '\n') == 2);
  CHECK(said.find("failed: No space left on device") != std::string::npos);
  CHECK(said.find("works again after 20 failed writes") != std::string::npos);
}

TEST_CASE("file sink: /dev/full loses every record, counted, and says so once per interval",
          "[audit][file_sink]") {
  chokepoint::log::Recorded log;
  std::string error;
  FileSinkOptions options;
  options.log = &log;
  options.log_interval = std::chrono::hours(1);
  auto sink = make_file_sink("/dev/full", error, options);
  REQUIRE(sink);
  std::uint64_t next = 0;
  for (int i = 0; i < 1000; ++i)
    sink->write(batch(next, 3));
  CHECK(sink->stats().written == 0);
  CHECK(sink->stats().lost == 3000);
  CHECK(sink->health().failing);
  const std::string said = log.text();
  CHECK(std::count(said.begin(), said.end(), '\n') == 1);
}

TEST_CASE("file sink: a pipe cut mid-record gets a newline before the next record",
          "[audit][file_sink]") {
  std::signal(SIGPIPE, SIG_IGN);
  char templ[] = "/tmp/chokepoint-fifo-XXXXXX";
  REQUIRE(::mkdtemp(templ));
  const std::string fifo = std::string(templ) + "/audit.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(reader >= 0);
  REQUIRE(::fcntl(reader, F_SETPIPE_SZ, 4096) >= 0);
  chokepoint::log::Recorded log;
  std::string error;
  FileSinkOptions options;
  options.log = &log;
  auto sink = make_file_sink(fifo, error, options);
  REQUIRE(sink);

  // A batch larger than the pipe: the write blocks once the pipe is full,
  // and is cut short when the reader goes away.
  std::uint64_t next = 0;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    sink->write(batch(next, 20));
    done = true;
  });
  while (true) {
    int queued = 0;
    ::ioctl(reader, FIONREAD, &queued);
    if (queued >= 4096) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::close(reader);
  writer.join();
  CHECK(sink->stats().written < 20);
  CHECK(sink->stats().written + sink->stats().lost == 20);
  CHECK(sink->health().failing);

  // A reader comes back: the next batch starts on a line of its own, so
  // the broken line (if the pipe still holds it) stands alone.
  reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(reader >= 0);
  // The pipe still holds what went in before the cut: read it first.
  std::string data;
  char buffer[8192];
  const auto read_all = [&] {
    for (ssize_t n; (n = ::read(reader, buffer, sizeof buffer)) > 0;)
      data.append(buffer, static_cast<std::size_t>(n));
  };
  read_all();
  sink->write(batch(next, 1, 10));
  read_all();
  REQUIRE(data.size() > 2);
  CHECK(data.back() == '\n');
  std::vector<std::string> lines;
  std::istringstream split(data);
  for (std::string line; std::getline(split, line);)
    lines.push_back(line);
  REQUIRE(lines.size() >= 2);
  CHECK(whole(lines.back()));
  CHECK(lines.back().find("\"id\":\"t-0-20\"") != std::string::npos);
  CHECK_FALSE(whole(lines[lines.size() - 2]));  // the cut record, or nothing: never glued
  CHECK(sink->stats().written + sink->stats().lost == 21);
  CHECK_FALSE(sink->health().failing);
  ::close(reader);
  sink.reset();
  fs::remove_all(templ);
}

TEST_CASE("audit log: available while the sinks write, acknowledges each producer's records",
          "[audit][log]") {
  std::string error;
  char templ[] = "/tmp/chokepoint-log-XXXXXX";
  REQUIRE(::mkdtemp(templ));
  const std::string good = std::string(templ) + "/audit.jsonl";
  chokepoint::log::Recorded quiet;
  FileSinkOptions options;
  options.log = &quiet;

  const auto run = [&](const std::string& path) {
    std::vector<std::unique_ptr<Sink>> sinks;
    sinks.push_back(make_file_sink(path, error, options));
    AuditLog log(AuditLog::Options{2}, std::move(sinks));
    std::mutex mutex;
    std::condition_variable cv;
    std::uint64_t through = 0;
    bool ok = true;
    bool available = true;
    std::string why;
    log.on_committed(1, [&](std::uint64_t t, bool o) {
      std::lock_guard lock(mutex);
      through = t;
      ok = ok && o;
      // As the audit thread left it with this batch (a retry may come later).
      available = log.available();
      why = log.unavailable_reason();
      cv.notify_one();
    });
    std::uint64_t next = 0;
    log.write(1, batch(next, 3), true);
    log.write(1, batch(next, 2), true);
    std::unique_lock lock(mutex);
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return through == 5; });
    CHECK(through == 5);
    const auto result = std::make_tuple(ok, available, log.recent_refusals(), why);
    lock.unlock();
    log.stop();
    return result;
  };

  const auto [ok, available, refusals, why] = run(good);
  CHECK(ok);
  CHECK(available);
  CHECK(why.empty());
  REQUIRE(refusals.size() == 5);
  CHECK(refusals.front().id == "t-0-4");  // newest first

  const auto [full_ok, full_available, full_refusals, full_why] = run("/dev/full");
  CHECK_FALSE(full_ok);
  CHECK_FALSE(full_available);
  CHECK(full_why == "file:/dev/full: No space left on device");
  CHECK(full_refusals.size() == 5);  // handed to the sinks, though not written
  fs::remove_all(templ);
}

TEST_CASE("audit log: a full queue makes it unavailable, and its records are acknowledged lost",
          "[audit][log]") {
  std::string error;
  chokepoint::log::Recorded quiet;
  FileSinkOptions options;
  options.log = &quiet;
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(make_file_sink("/dev/null", error, options));
  AuditLog log(AuditLog::Options{1, 4}, std::move(sinks));
  std::mutex mutex;
  std::condition_variable cv;
  std::uint64_t through = 0;
  bool ok = true;
  log.on_committed(0, [&](std::uint64_t t, bool o) {
    std::lock_guard lock(mutex);
    through = t;
    ok = ok && o;
    cv.notify_one();
  });
  std::uint64_t next = 0;
  log.write(0, batch(next, 10));  // 4 fit; 6 are refused
  CHECK_FALSE(log.available());
  CHECK(log.dropped() == 6);
  {
    std::unique_lock lock(mutex);
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return through == 10; });
    CHECK(through == 10);
    CHECK_FALSE(ok);
  }
  // The next drain finds room again.
  log.write(0, batch(next, 1), true);
  {
    std::unique_lock lock(mutex);
    ok = true;
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return through == 11; });
    CHECK(ok);
  }
  CHECK(log.available());
  log.stop();
}

TEST_CASE("audit log: the last refusals are bounded, newest first", "[audit][log]") {
  std::string error;
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(make_file_sink("/dev/null", error));
  AuditLog log(AuditLog::Options{1}, std::move(sinks));
  std::uint64_t next = 0;
  for (int i = 0; i < 8; ++i)
    log.write(0, batch(next, 10, 10));
  log.stop();
  const auto refusals = log.recent_refusals();
  CHECK(refusals.size() == AuditLog::kRecentRefusals);
  CHECK(refusals.front().id == "t-0-79");
  CHECK(refusals.back().id == "t-0-30");
}
