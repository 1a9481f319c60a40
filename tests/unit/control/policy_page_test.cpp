// GET /policy: the running policy's JSON, byte for byte.
#include "control/policy_page.hpp"

#include <catch2/catch.hpp>

using namespace chokepoint;
using namespace chokepoint::control;

TEST_CASE("/policy: where the running policy came from and its reloads", "[control][admin]") {
  RunningPolicy running;
  running.source = "/etc/chokepoint/site.yaml";
  running.sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  running.loaded_at = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  running.rules = 84;
  running.generation = 3;
  running.reloads = 2;
  running.reload_failures = 1;
  CHECK(render_policy(running, {}) ==
        R"({"source":"/etc/chokepoint/site.yaml","catalogs":[],)"
        R"("sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",)"
        R"("loaded_at":"2023-11-14T22:13:20.000000Z","rules":84,"generation":3,"reloads":2,)"
        R"("reload_failures":1})"
        "\n");

  // The built-in catalogs it includes, with the values the site gave their variables.
  const policy::BuiltinCatalog on_premises{"builtin:a.yaml", "on premises", "", {}};
  const policy::BuiltinCatalog saas{"builtin:b.yaml", "SaaS \"edition\"", "", {}};
  policy::LoadedCatalog regional{&saas, {{"region", {"jp-1", "us-1"}}, {"unset", {}}}};
  const std::string json = render_policy(running, {{&on_premises, {}}, regional});
  CHECK(json.find(R"("catalogs":[{"name":"builtin:a.yaml","edition":"on premises"},)"
                  R"({"name":"builtin:b.yaml","edition":"SaaS \"edition\"",)"
                  R"("region":["jp-1","us-1"],"unset":[]}],"sha256":)") != std::string::npos);
}
