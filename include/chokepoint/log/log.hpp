// Operational messages: what the running proxy tells its operator (reloads,
// drains, audit sinks failing and recovering, accepts the kernel refused).
// Not the audit log, which is a product of its own (audit/). The wording of
// these lines is kept as it is: operators' scripts and the end-to-end tests
// look for it.
//
// They go to standard error. Under systemd standard error is journald's
// stream (JOURNAL_STREAM names it): then each line begins with its level as
// "<N>" (sd-daemon(3)), which journald takes off and keeps as the entry's
// priority; elsewhere the lines are written as they are. Each message is
// one write(2), so messages from several threads never interleave.
// Something that can recur many times a second goes through a
// log::Throttle (throttle.hpp) first.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

namespace chokepoint::log {

// syslog(3)'s priorities, as journald reads them.
enum class Level : std::uint8_t { Error = 3, Warning = 4, Notice = 5, Info = 6 };

// Where messages go.
class Output {
 public:
  virtual ~Output() = default;
  // One message (one or more lines, as Message built it); must not throw.
  virtual void write(Level level, std::string_view message) = 0;
};

// The process's standard error. Safe from any thread.
Output& standard_error();

// Keeps what is written, as standard error away from journald shows it
// (tests read it).
class Recorded final : public Output {
 public:
  void write(Level level, std::string_view message) override;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// Whether `fd` is the stream systemd connected to journald: JOURNAL_STREAM
// ("DEVICE:INODE") names that very descriptor (a child whose stderr was
// redirected elsewhere still inherits the variable).
bool is_journal_stream(int fd);

// `message` as it is written: "chokepoint: " in front and a newline at its
// end when it has none; for journald (`journal`), each line led by "<N>".
std::string frame(Level level, std::string_view message, bool journal);

// One message, built with << as on a stream, written when it ends:
//   log::Message(log::Level::Warning) << "cannot watch " << directory;
class Message {
 public:
  explicit Message(Level level, Output& out = standard_error()) : level_(level), out_(out) {}
  ~Message() { out_.write(level_, text_.view()); }
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;

  template <class T>
  Message& operator<<(const T& value) {
    text_ << value;
    return *this;
  }

 private:
  Level level_;
  Output& out_;
  std::ostringstream text_;
};

}  // namespace chokepoint::log
