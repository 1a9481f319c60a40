// The manager client's deadlines (include/chokepoint/inventory/manager_client.hpp),
// against a real socket on loopback that accepts and then says nothing: a
// fetch that waited for ever would hold the refresher's thread and every
// refresh after it. The rest of the client is tested end to end against the
// test manager (tests/e2e/test_inventory.py).
#include <catch2/catch.hpp>

#include <chokepoint/inventory/manager_client.hpp>

using namespace chokepoint;
using namespace chokepoint::inventory;

TEST_CASE("a manager that accepts and never answers is given up at the timeout",
          "[inventory][client]") {
  asio::io_context io;
  tcp::acceptor silent(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket held(io), held_again(io);
  silent.async_accept(held, [](const error_code&) {});

  policy::InventorySource source;
  source.url = "https://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/api";
  ManagerClient client(source);
  FetchLimits limits;
  limits.timeout = std::chrono::milliseconds(200);

  std::optional<FetchResult> fetched;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        fetched = co_await client.fetch("key", limits);
        // The same client tries again from the start: a new connection, a
        // new deadline, the same answer.
        if (fetched->error == FetchError::Connect) {
          silent.async_accept(held_again, [](const error_code&) {});
          fetched = co_await client.fetch("key", limits);
        }
      },
      asio::detached);
  // Not a timing test: the bound only turns a fetch that never ends into a
  // failure instead of a hung run.
  io.run_for(std::chrono::seconds(20));

  REQUIRE(fetched.has_value());
  CHECK(fetched->error == FetchError::Connect);
  CHECK(fetched->detail.find("no answer within the timeout") != std::string::npos);
  CHECK(fetched->requests == 0);
}
