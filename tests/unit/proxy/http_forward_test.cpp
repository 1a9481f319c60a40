// Plain HTTP through the explicit proxy (src/proxy/http_forward.hpp, and the
// session's plain HTTP stage): requests forwarded in origin-form, upstream
// connections kept alive per destination, and a connection the server
// closed meanwhile never reused.
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include "session_fixture.hpp"

using namespace chokepoint;
using namespace chokepoint::proxy;
using audit::Event;

namespace {

// Answers each request on a connection with 200 "ok" and its path; with
// `close_after_first`, closes after the first answer (as a server whose
// keep-alive timeout is up). (A coroutine of its own: a coroutine lambda's
// captures die with the lambda.)
asio::awaitable<void> answer(tcp::socket socket, std::vector<std::string>* seen,
                             bool close_after_first) {
  std::string in;
  while (true) {
    error_code ec;
    const std::size_t n = co_await asio::async_read_until(socket, asio::dynamic_buffer(in),
                                                          "\r\n\r\n", await_into(ec));
    if (ec) co_return;
    seen->push_back(in.substr(0, in.find("\r\n")));
    in.erase(0, n);
    const std::string out = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    co_await asio::async_write(socket, asio::buffer(out), await_into(ec));
    if (ec || close_after_first) co_return;
  }
}

test::Server::Serve answer_each(std::vector<std::string>& seen, bool close_after_first) {
  return [&seen, close_after_first](tcp::socket socket) {
    return answer(std::move(socket), &seen, close_after_first);
  };
}

// Sends each request once the previous answer has arrived; the answers.
asio::awaitable<void> ask(tcp::socket& client, std::vector<std::string> requests,
                          std::vector<std::string>& answers) {
  std::string in;
  for (const auto& request : requests) {
    error_code ec;
    co_await asio::async_write(client, asio::buffer(request), await_into(ec));
    const std::size_t n = co_await asio::async_read_until(client, asio::dynamic_buffer(in),
                                                          "\r\n\r\nok", await_into(ec));
    if (ec) break;
    answers.push_back(in.substr(0, n));
    in.erase(0, n);
  }
  client.close();
}

std::string get(std::uint16_t port, const std::string& path) {
  const std::string authority = "127.0.0.1:" + std::to_string(port);
  return "GET http://" + authority + path + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n";
}

std::string allow(std::uint16_t port) {
  return "version: 1\nrules:\n  - {id: plain, ports: [" + std::to_string(port) +
         "], destinations: [127.0.0.1/32]}\n";
}

}  // namespace

TEST_CASE("plain HTTP: requests in origin-form on one kept-alive upstream connection",
          "[proxy][forward]") {
  test::SessionFixture f;
  std::vector<std::string> seen;
  test::Server server(f.io, answer_each(seen, false), 2);
  f.snapshot = test::snapshot_from(allow(server.port()));
  f.start(explicit_source(f.options));
  std::vector<std::string> answers;
  asio::co_spawn(f.io, ask(f.client, {get(server.port(), "/a"), get(server.port(), "/b")}, answers),
                 [&](std::exception_ptr) {
                   server.acceptor.close();
                   f.upstreams.clear();  // as the sweep does after the keep-alive
                 });
  const auto records = f.records();
  REQUIRE(answers.size() == 2);
  CHECK(answers[1].rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(answers[1].find("Via: 1.1 chokepoint") != std::string::npos);
  CHECK(seen == std::vector<std::string>{"GET /a HTTP/1.1", "GET /b HTTP/1.1"});
  CHECK(server.accepted == 1);  // the second request went on the pooled connection
  REQUIRE(records.size() == 4);
  CHECK(records[0].event == Event::Open);
  CHECK(records[0].mode == audit::Mode::Http);
  CHECK(records[1].event == Event::Close);
  CHECK(records[1].status == 200);
  CHECK(records[3].event == Event::Close);
  CHECK(records[3].upstream == records[1].upstream);
  CHECK(records[3].id != records[1].id);
}

TEST_CASE("plain HTTP: a connection the server closed is not reused", "[proxy][forward]") {
  test::SessionFixture f;
  std::vector<std::string> seen;
  test::Server server(f.io, answer_each(seen, true), 2);
  f.snapshot = test::snapshot_from(allow(server.port()));
  f.start(explicit_source(f.options));
  std::vector<std::string> answers;
  asio::co_spawn(f.io, ask(f.client, {get(server.port(), "/a")}, answers), asio::detached);
  f.io.run_for(std::chrono::milliseconds(200));
  // A second client of the same thread, after the server closed the first's
  // pooled connection.
  f.start(explicit_source(f.options));
  asio::co_spawn(f.io, ask(f.client, {get(server.port(), "/b")}, answers), [&](std::exception_ptr) {
    server.acceptor.close();
    f.upstreams.clear();  // as the sweep does after the keep-alive
  });
  const auto records = f.records();
  REQUIRE(answers.size() == 2);
  CHECK(answers[1].rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(server.accepted == 2);
  CHECK(records.size() == 4);
}
