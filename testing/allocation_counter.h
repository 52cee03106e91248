// Counts every global operator new in the test binary that links //testing:allocation_counter
// (it replaces operator new/delete), to show that a code path does not allocate:
//
//   const long before = tornado::testing::allocation_count();
//   parse(valid_input);
//   EXPECT_EQ(tornado::testing::allocation_count(), before);
#pragma once

namespace tornado::testing {

// operator new calls so far, on any thread.
long allocation_count();

}  // namespace tornado::testing
