// GET /inventory: the refresher's status and the map in use, one JSON object.
#include "control/inventory_page.hpp"

#include <catch2/catch.hpp>

using namespace chokepoint;
using namespace chokepoint::control;

TEST_CASE("/inventory: the refreshes, and every address with its computer", "[control][admin]") {
  std::vector<inventory::Computer> list(2);
  list[0].id = 7;
  list[0].host_name = "relay-01";
  list[0].agent_version = "20.0.1.690";
  list[0].relay_state = true;
  list[0].addresses = {*IpAddress::parse("10.0.0.1"), *IpAddress::parse("10.0.0.9")};
  list[1].id = 8;
  list[1].host_name = "web-02";
  list[1].agent_version = "junk";
  list[1].addresses = {*IpAddress::parse("10.0.0.9")};
  const auto fetched = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  InventoryPage page;
  page.url = "https://dsm.example:4119/api";
  page.required = true;
  page.status.refreshes = 2;
  page.status.failures["status"] = 1;
  page.status.last_good = fetched;
  page.status.last_changed = fetched - std::chrono::seconds(3600);
  page.status.last_attempt = fetched + std::chrono::seconds(60);
  page.status.last_error = "HTTP 500 from the manager";
  page.status.last_took = std::chrono::milliseconds(12);
  page.status.last_requests = 1;
  page.inventory = inventory::Inventory::build(list, {});
  page.now = fetched + std::chrono::seconds(90);
  CHECK(render_inventory(page) ==
        R"({"configured":true,"url":"https://dsm.example:4119/api","required":true,"applies":true,)"
        R"("refreshes":2,"failures":{"status":1},"last_good":"2023-11-14T22:13:20.000000Z",)"
        R"("last_changed":"2023-11-14T21:13:20.000000Z",)"
        R"("last_attempt":"2023-11-14T22:14:20.000000Z","last_error":"HTTP 500 from the manager",)"
        R"("last_took_ms":12,"last_requests":1,"age_s":90,"inventory":{"computers":2,"clients":2,)"
        R"("relays":1,"addresses":[{"address":"10.0.0.1","computer":"relay-01","computer_id":7,)"
        R"("role":"relay","version":"20.0.1-690"}],)"
        R"("ambiguous":[{"address":"10.0.0.9","computer_ids":[7,8]}]}})"
        "\n");
}

TEST_CASE("/inventory without an inventory section, and while none applies", "[control][admin]") {
  InventoryPage page;
  CHECK(
      render_inventory(page) ==
      R"({"configured":false,"url":null,"required":false,"applies":false,"refreshes":0,)"
      R"("failures":{},"last_good":null,"last_changed":null,"last_attempt":null,"last_error":null,)"
      R"("last_took_ms":0,"last_requests":0,"age_s":-1,"inventory":null})"
      "\n");
}
