-- wrk script for bench_http.py: 95% policy-checked gets of random customers as the billing
-- team, 5% corrections as support; prints one JSON line of results when done.
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
local reader, writer = os.getenv("BENCH_READ_KEY"), os.getenv("BENCH_WRITE_KEY")

request = function()
  local id = ids[math.random(#ids)]
  if math.random() < tonumber(os.getenv("BENCH_WRITES") or "0.05") then
    local body = string.format('{"fields":{"telephone":"+9198%08d"}}', math.random(0, 99999999))
    return wrk.format("PATCH", "/v1/customers/" .. id,
      { ["X-API-Key"] = writer, ["Content-Type"] = "application/json" }, body)
  end
  return wrk.format("GET", "/v1/customers/" .. id .. "?purpose=billing", { ["X-API-Key"] = reader })
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,'
      .. '"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
