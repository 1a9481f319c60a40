#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include <chokepoint/auth/password_hash.hpp>

using namespace chokepoint::auth;

TEST_CASE("password hashes round-trip and verify in constant time", "[auth]") {
  const PasswordHash h = hash_password("s3cret", 1000);
  CHECK(verify_password(h, "s3cret"));
  CHECK_FALSE(verify_password(h, "s3cret "));
  CHECK_FALSE(verify_password(h, ""));
  const auto parsed = PasswordHash::parse(h.to_string());
  REQUIRE(parsed);
  CHECK(verify_password(*parsed, "s3cret"));
  CHECK(h.to_string().rfind("$pbkdf2-sha256$1000$", 0) == 0);
  // Two hashes of one password differ by their salt.
  CHECK(hash_password("s3cret", 1000).to_string() != h.to_string());
  for (const char* bad : {"", "$pbkdf2-sha256$", "$pbkdf2-sha256$10$AAAAAAAAAAA=$AAAA",
                          "$md5$1$a$b", "$pbkdf2-sha256$1000$!!$AAAA"}) {
    INFO(bad);
    CHECK_FALSE(PasswordHash::parse(bad));
  }
}

TEST_CASE("base64 as RFC 7617 needs it", "[auth]") {
  CHECK(base64_encode("relay01:pw") == "cmVsYXkwMTpwdw==");
  CHECK(base64_decode("cmVsYXkwMTpwdw==") == std::string("relay01:pw"));
  CHECK(base64_decode("YQ==") == std::string("a"));
  CHECK(base64_decode("YWI=") == std::string("ab"));
  CHECK_FALSE(base64_decode("YQ="));
  CHECK_FALSE(base64_decode("Y Q=="));
}

TEST_CASE("users file problems have a line", "[auth]") {
  const auto path = std::filesystem::temp_directory_path() / "chokepoint-users-test";
  std::ofstream(path) << "# comment\nrelay01:" << hash_password("pw", 1000).to_string()
                      << "\nbroken\n";
  const auto result = load_users(path.string());
  REQUIRE_FALSE(result.ok());
  CHECK(result.diagnostics()[0].to_string().find(":3:1: expected NAME:") != std::string::npos);
  std::filesystem::remove(path);
}
