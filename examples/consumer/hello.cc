// A program outside the tornado-cpp repo, built against one of its modules.
#include <iostream>

#include "log/log.h"
#include "log/version.h"

int main() {
  tornado::log::gen_log().info("hello from a consumer of tornado-cpp log");
  std::cout << "tornado log module version " << tornado::log::kVersion << "\n";
  return 0;
}
