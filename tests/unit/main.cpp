#define CATCH_CONFIG_RUNNER
#include <sys/stat.h>

#include <catch2/catch.hpp>

int main(int argc, char* argv[]) {
  // The files tests write get the modes the tests expect whatever umask the
  // caller (a CI runner) has: a config or users file its group can write is
  // refused (core/trusted_file.hpp).
  ::umask(022);
  return Catch::Session().run(argc, argv);
}
