// tornado::gen: the non-template parts (sleep, multi over Future<void>).
#include "gen/gen.h"

namespace tornado::gen {

Future<void> sleep(double seconds) {
  Future<void> f;
  ioloop::IOLoop::current()->call_later(seconds, [f] { concurrent::future_set_result_unless_cancelled(f); });
  return f;
}

Future<void> multi(std::vector<Future<void>> children, QuietExceptions quiet_exceptions) {
  struct State {
    std::vector<Future<void>> children;
    std::size_t remaining;
    Future<void> out;
    QuietExceptions quiet;
    void finish() {
      bool ok = true;
      for (auto& c : children) ok = internal::route_error(out, internal::child_error(c), quiet) && ok;
      if (ok && !out.done()) out.set_result();
    }
  };
  auto st = std::make_shared<State>(State{std::move(children), 0, {}, std::move(quiet_exceptions)});
  Future<void> out = st->out;
  st->remaining = st->children.size();
  if (st->remaining == 0) {
    out.set_result();
    return out;
  }
  for (auto& c : st->children) {
    internal::each_done(c, [st] {
      if (--st->remaining == 0) st->finish();
    });
  }
  return out;
}

}  // namespace tornado::gen
