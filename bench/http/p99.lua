-- wrk script: prints "<requests/s> <p99 us>" on stderr at the end of the run.
-- With WRK_CONNECTION_CLOSE=1 in the environment, every request asks for
-- "Connection: close" (a new connection per request).
if os.getenv("WRK_CONNECTION_CLOSE") == "1" then
  wrk.headers["Connection"] = "close"
end
done = function(summary, latency, requests)
  io.stderr:write(string.format("%.0f %d\n", summary.requests / (summary.duration / 1e6),
                                latency:percentile(99)))
end
