#include <catch2/catch.hpp>

#include <chokepoint/core/version.hpp>

using namespace chokepoint;

TEST_CASE("Version parses the forms clients report", "[core][version]") {
  CHECK(Version::parse("20") == Version::parse("20.0"));
  CHECK(Version::parse("20.0") == Version::parse("20.0.0"));
  CHECK(*Version::parse("20.0.1-1234") > *Version::parse("20.0"));
  CHECK(*Version::parse("12.0.0-5678") < *Version::parse("20"));
  CHECK(*Version::parse("9.6") < *Version::parse("10.0"));
  CHECK(*Version::parse("10.10") > *Version::parse("10.9"));
  CHECK(Version::parse("20.0.1-1234")->to_string() == "20.0.1-1234");
  CHECK(Version::parse("20")->to_string() == "20.0");
  // The manager's API writes the build as a fourth dotted part.
  CHECK(Version::parse("20.0.1.690") == Version::parse("20.0.1-690"));
  CHECK(Version::parse("20.0.1.690")->to_string() == "20.0.1-690");
  CHECK(*Version::parse("20.0.1.690") > *Version::parse("20.0.1"));
  CHECK(*Version::parse("12.0.0.1234") < *Version::parse("20"));
  for (const char* bad : {"", "v20", "20.", ".20", "20..0", "20-", "20-1-2", "20.x", "1234567890",
                          "20.0.1.690.1", "20.0.1.690-1", "20.0.1-690.1", "20.0.1."}) {
    INFO(bad);
    CHECK_FALSE(Version::parse(bad));
  }
}
