// ThreadSanitizer suppressions, compiled into every test (TSan reads this hook at
// start-up; other builds never call it). Debian's abseil and gRPC are not built with
// -fsanitize=thread, so TSan sees their intercepted libc calls without the locking
// around them and reports false races. A race report with a frame in one of those
// libraries is dropped; our own code is fully instrumented and never listed here.
extern "C" const char* __tsan_default_suppressions() {
  return "race:libabsl_\n"
         "race:libgrpc\n"
         "race:libgpr\n";
}
