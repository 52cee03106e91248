-- wrk script: prints "<requests/s> <p99 us>" on stderr at the end of the run.
done = function(summary, latency, requests)
  io.stderr:write(string.format("%.0f %d\n", summary.requests / (summary.duration / 1e6),
                                latency:percentile(99)))
end
