// GET /connections: every open tunnel under its open record's keys.
#include "control/connections_page.hpp"

#include <catch2/catch.hpp>

using namespace chokepoint;
using namespace chokepoint::control;

TEST_CASE("/connections: a tunnel's facts under the record's keys", "[control][admin]") {
  CHECK(render_connections({}) == "[]\n");

  proxy::Worker::OpenTunnel relaying;
  relaying.facts.id = "5f1c09a2-0-17";
  relaying.facts.client = "10.0.8.23:51514";
  relaying.facts.role = "agent";
  relaying.facts.mode = audit::Mode::Connect;
  relaying.facts.host = "ds20.icrc.trendmicro.com";
  relaying.facts.port = 443;
  relaying.facts.upstream = "203.0.113.40:443";
  relaying.facts.rule = "spn-smart-scan";
  relaying.bytes_up = 2291;
  relaying.bytes_down = 6140;
  relaying.age = std::chrono::milliseconds(61'900);
  relaying.idle = std::chrono::seconds(2);
  proxy::Worker::OpenTunnel waiting;
  waiting.facts.id = "5f1c09a2-1-3";
  waiting.facts.client = "10.0.1.7:40000";
  waiting.facts.user = "relay01";
  waiting.facts.role = "relay";
  waiting.facts.mode = audit::Mode::Socks;
  waiting.facts.host = "files.trendmicro.com";
  waiting.facts.port = 443;
  waiting.facts.sni = "files.trendmicro.com";
  waiting.facts.via = "10.0.0.2:3000";
  waiting.facts.upstream_proxy = "proxy.corp.example:3128";
  waiting.waiting_for_client = true;
  CHECK(render_connections({relaying, waiting}) ==
        R"([{"id":"5f1c09a2-0-17","client":"10.0.8.23:51514","user":null,"role":"agent",)"
        R"("mode":"connect","host":"ds20.icrc.trendmicro.com","port":443,"sni":null,)"
        R"("upstream":"203.0.113.40:443","rule":"spn-smart-scan","state":"relaying",)"
        R"("bytes_up":2291,"bytes_down":6140,"age_s":61,"idle_s":2},)"
        "\n"
        R"({"id":"5f1c09a2-1-3","client":"10.0.1.7:40000","user":"relay01","role":"relay",)"
        R"("mode":"socks","host":"files.trendmicro.com","port":443,)"
        R"("sni":"files.trendmicro.com","upstream":null,"rule":null,)"
        R"("state":"waiting_for_client","bytes_up":0,"bytes_down":0,"age_s":0,"idle_s":0,)"
        R"("via":"10.0.0.2:3000","upstream_proxy":"proxy.corp.example:3128"}])"
        "\n");
}
