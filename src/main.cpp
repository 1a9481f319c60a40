#include <chokepoint/app/cli.hpp>

int main(int argc, char** argv) {
  return chokepoint::app::main(argc, argv);
}
