// tornado::testing, Tornado's tornado.testing: the main header. AsyncTestCase and
// ASYNC_TEST_F (async_test_case.h), ExpectLog (expect_log.h), bind_unused_port
// (bind_unused_port.h), get_async_test_timeout.
#pragma once

#include "testing/async_test_case.h"
#include "testing/bind_unused_port.h"
#include "testing/expect_log.h"
#include "testing/version.h"
