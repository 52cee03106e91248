// A program outside the tornado-cpp repo, built against one of its modules.
#include <chrono>
#include <iostream>

#include "util/util.h"
#include "util/version.h"

int main() {
  using namespace std::chrono_literals;
  std::cout << "tornado util module version " << tornado::util::kVersion << "\n";
  std::cout << "90 minutes is " << tornado::util::timedelta_to_seconds(90min) << " seconds\n";
  return 0;
}
