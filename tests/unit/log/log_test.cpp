// Operational messages: the bytes stderr shows (the wording scripts and the
// end-to-end tests look for), and the levels journald is given.
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chokepoint/log/log.hpp>

using namespace chokepoint;

TEST_CASE("log: a message is one line (or several) after the program's name", "[log]") {
  using log::Level;
  CHECK(log::frame(Level::Notice, "drain period over; ending 3 connections", false) ==
        "chokepoint: drain period over; ending 3 connections\n");
  // A newline of its own is not doubled; lines after the first stand as they are.
  CHECK(log::frame(Level::Warning,
                   "reload (SIGHUP) refused; the running policy stays:\n"
                   "site.yaml:3:1: unknown key\n",
                   false) ==
        "chokepoint: reload (SIGHUP) refused; the running policy stays:\n"
        "site.yaml:3:1: unknown key\n");
  CHECK(log::frame(Level::Info, "", false) == "chokepoint: \n");
}

TEST_CASE("log: on journald's stream every line carries its level", "[log]") {
  using log::Level;
  CHECK(log::frame(Level::Error, "audit: 5 records lost", true) ==
        "<3>chokepoint: audit: 5 records lost\n");
  CHECK(log::frame(Level::Warning, "reload (SIGHUP) refused:\na:1:1: x\nb:2:2: y", true) ==
        "<4>chokepoint: reload (SIGHUP) refused:\n<4>a:1:1: x\n<4>b:2:2: y\n");
  CHECK(log::frame(Level::Notice, "one\n", true) == "<5>chokepoint: one\n");
}

TEST_CASE("log: journald's stream is the descriptor JOURNAL_STREAM names", "[log]") {
  char path[] = "/tmp/chokepoint-journal-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  const std::string named = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  const int other = ::open("/dev/null", O_WRONLY);
  ::setenv("JOURNAL_STREAM", named.c_str(), 1);
  CHECK(log::is_journal_stream(fd));
  CHECK_FALSE(log::is_journal_stream(other));  // stderr redirected: plain lines
  ::setenv("JOURNAL_STREAM", "garbage", 1);
  CHECK_FALSE(log::is_journal_stream(fd));
  ::unsetenv("JOURNAL_STREAM");
  CHECK_FALSE(log::is_journal_stream(fd));
  ::close(other);
  ::close(fd);
  ::unlink(path);
}

TEST_CASE("log: a message is built as on a stream and written once, whole", "[log]") {
  struct Count final : log::Output {
    int writes = 0;
    log::Level level = log::Level::Info;
    std::string text;
    void write(log::Level l, std::string_view message) override {
      ++writes;
      level = l;
      text = message;
    }
  } out;
  log::Message(log::Level::Error, out) << "cannot accept connections: "
                                       << "Too many open files"
                                       << " (" << 3 << " failures)";
  CHECK(out.writes == 1);
  CHECK(out.level == log::Level::Error);
  CHECK(out.text == "cannot accept connections: Too many open files (3 failures)");
  log::Recorded recorded;
  log::Message(log::Level::Notice, recorded) << "draining for up to " << 30 << " s";
  log::Message(log::Level::Notice, recorded) << "stopping now";
  CHECK(recorded.text() == "chokepoint: draining for up to 30 s\nchokepoint: stopping now\n");
}
