// Reading audit logs back: the line splitter gives the same lines whatever
// the buffer size and however the bytes arrive (pipes written a byte at a
// time), skips oversized lines, reads gzip members and says when a stream is
// cut short; the line parser reads the proxy's own records and refuses what
// is not one, without throwing.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/policy/loader.hpp>
#include <chokepoint/tools/audit_reader.hpp>
#include <chokepoint/tools/learn.hpp>
#include <chokepoint/tools/report.hpp>

using namespace chokepoint;
using namespace chokepoint::tools;

namespace {

struct TempFile {
  std::filesystem::path path;
  explicit TempFile(const std::string& bytes) {
    char name[] = "/tmp/chokepoint-reader-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = name;
    std::ofstream(path, std::ios::binary) << bytes;
  }
  ~TempFile() { std::filesystem::remove(path); }
};

std::vector<std::string> lines_of(AuditFile& file) {
  std::vector<std::string> out;
  std::string_view line;
  while (file.next(line)) {
    // The padding promised to the parser is there (and readable).
    volatile char last = line.data()[line.size() + kLinePadding - 1];
    (void)last;
    out.emplace_back(line);
  }
  return out;
}

std::vector<std::string> read_file(const std::string& bytes, AuditFile::Limits limits,
                                   std::string* error = nullptr) {
  TempFile file(bytes);
  std::string open_error;
  auto reader = AuditFile::open(file.path, open_error, limits);
  REQUIRE(reader);
  auto lines = lines_of(*reader);
  if (error) *error = reader->error();
  return lines;
}

// The bytes through a pipe, written `chunk` bytes at a time by another thread.
std::vector<std::string> read_pipe(const std::string& bytes, std::size_t chunk,
                                   AuditFile::Limits limits) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::thread writer([&] {
    for (std::size_t at = 0; at < bytes.size(); at += chunk) {
      const auto n = std::min(chunk, bytes.size() - at);
      if (::write(fds[1], bytes.data() + at, n) != static_cast<ssize_t>(n)) break;
    }
    ::close(fds[1]);
  });
  AuditFile reader(fds[0], "pipe", limits);
  auto lines = lines_of(reader);
  writer.join();
  return lines;
}

std::string gzip(const std::string& bytes) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, bytes.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

const std::string kText =
    "{\"a\":1}\n"
    "second line, longer than the first\r\n"
    "\n"
    "x\n"
    "a line of exactly forty bytes, no more!\n"
    "last line without a newline";

const std::vector<std::string> kLines = {
    "{\"a\":1}", "second line, longer than the first",      "",
    "x",         "a line of exactly forty bytes, no more!", "last line without a newline"};

}  // namespace

TEST_CASE("AuditFile: the same lines for every buffer size and every write size",
          "[tools][reader]") {
  for (std::size_t buffer = 1; buffer <= kText.size() + 2; ++buffer) {
    INFO("buffer " << buffer);
    CHECK(read_file(kText, {buffer, 40}) == kLines);
  }
  for (std::size_t chunk = 1; chunk <= 9; ++chunk) {
    INFO("chunk " << chunk);
    CHECK(read_pipe(kText, chunk, {64, 48}) == kLines);
  }
  CHECK(read_file("", {}).empty());
  CHECK(read_file("\n", {}) == std::vector<std::string>{""});
}

TEST_CASE("AuditFile: lines over the limit are skipped and counted", "[tools][reader]") {
  const std::string text = "short\n" + std::string(100, 'L') + "\nafter\n" + std::string(30, 'M') +
                           "\n" + std::string(200, 'N');
  for (std::size_t buffer = 1; buffer <= 80; ++buffer) {
    INFO("buffer " << buffer);
    TempFile file(text);
    std::string error;
    auto reader = AuditFile::open(file.path, error, {buffer, 32});
    REQUIRE(reader);
    CHECK(lines_of(*reader) == std::vector<std::string>{"short", "after", std::string(30, 'M')});
    CHECK(reader->oversized_lines() == 2);
    CHECK(reader->error().empty());
  }
}

TEST_CASE("AuditFile: gzip by its magic, members back to back, cut short or corrupt",
          "[tools][reader]") {
  const std::string second = "{\"b\":2}\nmore\n";
  const std::string both = gzip(kText + "\n") + gzip(second);
  std::vector<std::string> expected = kLines;
  expected.push_back("{\"b\":2}");
  expected.push_back("more");
  for (std::size_t buffer = 1; buffer <= 200; buffer += 13) {
    INFO("buffer " << buffer);
    std::string error;
    CHECK(read_file(both, {buffer, 48}, &error) == expected);
    CHECK(error.empty());
    CHECK(read_pipe(both, 3, {buffer, 48}) == expected);
  }
  {
    TempFile file(both);
    std::string error;
    auto reader = AuditFile::open(file.path, error);
    REQUIRE(reader);
    lines_of(*reader);
    CHECK(reader->compressed());
    CHECK(reader->bytes() == kText.size() + 1 + second.size());
  }

  // Cut short (a rotation still being written): what was there, then an error.
  const std::string whole = gzip(kText + "\n");
  std::string error;
  const auto cut = read_file(whole.substr(0, whole.size() - 12), {}, &error);
  CHECK(error == "truncated gzip stream");
  CHECK(cut.size() <= kLines.size());

  std::string corrupt = whole;
  corrupt[corrupt.size() / 2] ^= 0x55;
  corrupt[corrupt.size() / 2 + 1] ^= 0x55;
  read_file(corrupt, {}, &error);
  CHECK(error.find("gzip") != std::string::npos);

  read_file(whole + "trailing text\n", {}, &error);
  CHECK(error == "data after the end of the gzip stream");
}

namespace {

// What zlib alone makes of `bytes`: everything it can inflate, however they end.
std::string inflate_all(const std::string& bytes) {
  z_stream z{};
  REQUIRE(inflateInit2(&z, 15 + 32) == Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  inflate(&z, Z_NO_FLUSH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t at = 0;
  for (std::size_t newline; (newline = text.find('\n', at)) != std::string::npos;
       at = newline + 1) {
    lines.push_back(text.substr(at, newline - at));
  }
  if (at < text.size()) lines.push_back(text.substr(at));
  return lines;
}

}  // namespace

// A rotation cut short where the last deflate match is only partly copied
// out: zlib has read all the input but still holds the rest of that match.
TEST_CASE("AuditFile: a gzip member cut inside a match gives what zlib inflates in any block",
          "[tools][reader]") {
  const std::string text = "{\"a\":1}\n" + std::string(600, 'x') + "\nnext\n" +
                           std::string(400, 'y') + "\n" + std::string(500, 'z');
  const std::string whole = gzip(text);
  for (std::size_t cut = 10; cut < whole.size(); ++cut) {
    INFO("cut after " << cut << " of " << whole.size() << " bytes");
    const std::string truncated = whole.substr(0, cut);
    const auto expected = split_lines(inflate_all(truncated));
    for (const std::size_t buffer : {16, 300, 1 << 16}) {
      INFO("buffer " << buffer);
      std::string error;
      CHECK(read_file(truncated, {buffer, 4096}, &error) == expected);
      CHECK(error == "truncated gzip stream");
    }
  }
}

TEST_CASE("AuditFile: open errors", "[tools][reader]") {
  std::string error;
  CHECK_FALSE(AuditFile::open("/nonexistent/audit.jsonl", error));
  CHECK(error == "No such file or directory");
}

namespace {

// A parse with the padding the parser needs.
LineError parse(AuditLineParser& parser, const std::string& line, AuditRecord& out) {
  std::string padded = line + std::string(kLinePadding, ' ');
  static std::string keep;  // the views in `out` point into the last parsed line
  keep = std::move(padded);
  return parser.parse(keep.data(), line.size(), keep.size(), out);
}

}  // namespace

TEST_CASE("AuditLineParser: the proxy's own records", "[tools][reader]") {
  audit::Record r;
  r.ts = std::chrono::system_clock::time_point(std::chrono::microseconds(1795996812103377LL));
  r.event = audit::Event::Close;
  r.id = "5f1c09a2-0-17";
  r.client = "10.0.8.23:51514";
  r.role = "agent";
  r.version = "20.0";
  r.identity = "inventory";
  r.computer = "web-01 \"prod\"";  // escaped on the way out
  r.computer_id = 18446744073709551615ULL;
  r.mode = audit::Mode::Http;
  r.host = "ds20.icrc.trendmicro.com";
  r.port = 443;
  r.decision = audit::Decision::Deny;
  r.rule = "spn-smart-scan";
  r.service = "Smart \"Scan\"\n\x01 caf\xc3\xa9";  // escaped on the way out
  r.reason = audit::Reason::RuleAllows;
  r.enforced = false;
  r.path = "/tmcss/?q=1";
  r.bytes_up = 2291;
  r.bytes_down = 18446744073709551615ULL;
  r.duration_ms = 915;
  r.end = audit::End::Eof;
  r.source = audit::Source::Client;
  r.suppressed = 41;
  r.detail = "rule 'x' names it";

  AuditLineParser parser;
  AuditRecord out;
  std::string line = audit::to_json_line(r);
  line.pop_back();
  REQUIRE(parse(parser, line, out) == LineError::None);
  CHECK(out.ts == "2026-11-30T00:00:12.103377Z");
  CHECK(out.ts_micros == 1795996812103377LL);
  CHECK(out.event == audit::Event::Close);
  CHECK(out.id == "5f1c09a2-0-17");
  CHECK(out.client == "10.0.8.23:51514");
  CHECK(out.user.empty());  // null
  CHECK(out.role == "agent");
  CHECK(out.version == "20.0");
  CHECK(out.identity == "inventory");
  CHECK(out.computer == r.computer);
  CHECK(out.computer_id == 18446744073709551615ULL);
  CHECK(out.mode == "http");
  CHECK(out.host == "ds20.icrc.trendmicro.com");
  CHECK(out.port == 443);
  CHECK(out.sni.empty());
  CHECK(out.decision == "deny");
  CHECK(out.rule == "spn-smart-scan");
  CHECK(out.service == r.service);
  CHECK(out.reason == "rule_allows");
  CHECK_FALSE(out.enforced);
  CHECK(out.path == "/tmcss/?q=1");
  CHECK(out.bytes_up == 2291);
  CHECK(out.bytes_down == 18446744073709551615ULL);
  CHECK(out.duration_ms == 915);
  CHECK(out.end == "eof");
  CHECK(out.suppressed == 41);
  CHECK(out.detail == "rule 'x' names it");
}

TEST_CASE("AuditLineParser: what is not a record", "[tools][reader]") {
  AuditLineParser parser;
  AuditRecord out;
  const std::pair<const char*, LineError> cases[] = {
      {"", LineError::NotJson},
      {"not json", LineError::NotJson},
      {"[1,2]", LineError::NotJson},
      {"{\"ts\":\"2026-11-25T21:04:12.103377Z\",\"event", LineError::NotJson},
      // What a write cut short by ENOSPC left, and the next record appended to it.
      {"{\"ts\":\"2026-11-25T21:04:12Z\",\"event{\"ts\":\"2026-11-25T21:04:13Z\"}",
       LineError::NotJson},
      {"{\"ts\":\"2026-11-25T21:04:12Z\",\"event\":\"open\"}{\"ts\":1}", LineError::NotJson},
      {"{\"ts\":\"2026-11-25T21:04:12Z\",\"event\":\"open\",\"host\":\"\xff\"}",
       LineError::NotJson},
      {"{\"event\":\"open\"}", LineError::NotARecord},
      {"{\"ts\":\"yesterday\",\"event\":\"open\"}", LineError::NotARecord},
      {"{\"ts\":\"2026-11-25T21:04:12Z\"}", LineError::NotARecord},
      {"{\"ts\":\"2026-11-25T21:04:12Z\",\"event\":\"open\",\"port\":70000,\"bytes_up\":-1,"
       "\"duration_ms\":1.5,\"x\":{\"nested\":[1,{}]}}",
       LineError::None},
      // The inventory's keys with the wrong types are left empty, as any key's are.
      {"{\"ts\":\"2026-11-25T21:04:12Z\",\"event\":\"open\",\"computer\":7,"
       "\"computer_id\":\"42\",\"identity\":[\"cidr\"]}",
       LineError::None},
  };
  for (const auto& [line, expected] : cases) {
    INFO(line);
    CHECK(parse(parser, line, out) == expected);
  }
  CHECK(out.computer.empty());
  CHECK(out.computer_id == 0);
  CHECK(out.identity.empty());
  REQUIRE(parse(parser,
                "{\"ts\":\"2026-11-25T21:04:12Z\",\"event\":\"open\",\"port\":70000,"
                "\"bytes_up\":-1,\"computer_id\":-5}",
                out) == LineError::None);
  CHECK(out.port == 0);  // out of range
  CHECK(out.bytes_up == 0);
  CHECK(out.computer_id == 0);
}

TEST_CASE("parse_timestamp", "[tools][reader]") {
  std::int64_t t = 0;
  CHECK(parse_timestamp("1970-01-01T00:00:00Z", t));
  CHECK(t == 0);
  CHECK(parse_timestamp("2026-11-25T21:04:12.103377Z", t));
  CHECK(t == 1795640652103377LL);
  CHECK(parse_timestamp("2026-11-25T22:04:12.1033+01:00", t));
  CHECK(t == 1795640652103300LL);
  CHECK(parse_timestamp("2000-02-29T00:00:00Z", t));
  CHECK(t == 951782400000000LL);
  for (const char* bad :
       {"", "2026-11-25", "2026-11-25T21:04:12", "2026-13-25T21:04:12Z", "2026-11-25T21:04:12.Z",
        "2026-11-25T21:04:12Zjunk", "2026-11-25X21:04:12Z", "2026-11-25T21:04:12+0100"}) {
    INFO(bad);
    CHECK_FALSE(parse_timestamp(bad, t));
  }
}

// A background probe's record is the proxy's own, no client's: `report`
// counts it as a record and nothing else, `learn` learns nothing from it.
TEST_CASE("AuditLineParser, report and learn: a probe record", "[tools][reader][probe]") {
  audit::Record r;
  r.ts = std::chrono::system_clock::time_point(std::chrono::microseconds(1795996812103377LL));
  r.event = audit::Event::Probe;
  r.id = "probe";
  r.role = "agent";
  r.host = "ds20.icrc.trendmicro.com";
  r.port = 443;
  r.rule = "spn-smart-scan";
  r.service = "Smart Scan";
  r.detail = "connect: connection refused (was ok)";
  std::string line = audit::to_json_line(r);
  line.pop_back();
  CHECK(line.find("\"event\":\"probe\"") != std::string::npos);

  AuditLineParser parser;
  AuditRecord out;
  REQUIRE(parse(parser, line, out) == LineError::None);
  REQUIRE(out.event);
  CHECK(*out.event == audit::Event::Probe);
  CHECK(out.host == "ds20.icrc.trendmicro.com");
  CHECK(out.detail == "connect: connection refused (was ok)");

  ReportBuilder report_builder;
  report_builder.add(out);
  const Report report = std::move(report_builder).finish();
  CHECK(report.records == 1);
  CHECK(report.connections == 0);
  CHECK(report.denied == 0);
  CHECK(report.errors == 0);
  CHECK(report.clients.rows.empty());
  CHECK(report.services.rows.empty());

  const auto snapshot = [] {
    auto loaded =
        policy::load_config_text("version: 1\ninclude: builtin:deep-security.yaml\n", "site.yaml");
    REQUIRE(loaded.ok());
    auto built = policy::Snapshot::build(std::move(loaded).value().policy);
    REQUIRE(built.ok());
    return built.value();
  }();
  Learner learner(snapshot, {});
  learner.add(out);
  const LearnResult learned = learner.finish();
  CHECK(learned.rules == 0);
  CHECK(learned.clients == 0);
  CHECK(learned.observations == 0);
}
