// tornado::concurrent, Tornado's tornado.concurrent: Future<T> (also the coroutine type),
// its helpers, and executors. The module's main header.
#pragma once

#include "concurrent/executor.h"  // IWYU pragma: export
#include "concurrent/future.h"    // IWYU pragma: export
