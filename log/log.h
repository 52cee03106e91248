// Tornado's three loggers (tornado.log): access_log, app_log and gen_log, over spdlog.
#pragma once

#include <spdlog/spdlog.h>

namespace tornado::log {

// Per-request access logging ("tornado.access"); Tornado's access_log.
spdlog::logger& access_log();

// Uncaught errors from application code ("tornado.application"); Tornado's app_log.
spdlog::logger& app_log();

// Everything else, e.g. connection errors ("tornado.general"); Tornado's gen_log.
spdlog::logger& gen_log();

}  // namespace tornado::log
