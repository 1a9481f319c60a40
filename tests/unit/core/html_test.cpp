#include <catch2/catch.hpp>

#include <chokepoint/core/html.hpp>

using chokepoint::html_escape;

TEST_CASE("html_escape: markup characters become references, controls U+FFFD", "[core][html]") {
  CHECK(html_escape("a&b<c>d\"e'f") == "a&amp;b&lt;c&gt;d&quot;e&#39;f");
  CHECK(html_escape(std::string("x\0y\x1b", 4)) == "x\xEF\xBF\xBDy\xEF\xBF\xBD");
  CHECK(html_escape("tab\tand\nnewline stay") == "tab\tand\nnewline stay");
  CHECK(html_escape("plain.example.com:443") == "plain.example.com:443");
}
