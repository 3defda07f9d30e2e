-- wrk script for bench/webhook-ingest.ts: sends each pre-signed delivery of a file once, in
-- order ("<signature>\t<body>" per line), then starts over (the repeats are answered
-- "duplicate"; the benchmark reports how many were sent). Run with one thread (-t1) so that a
-- single Lua state walks the list. Prints the result as one JSON line.
--   wrk -t1 -c200 -d5s -s bench/wrk-deliveries.lua URL -- FILE HEADER
local items = {}
local at = 0

function init(args)
  local header = args[2] or "X-ZenFlow-Signature"
  for line in io.lines(args[1]) do
    local sig, body = line:match("^([^\t]*)\t(.*)$")
    local headers = { ["Content-Type"] = "application/json" }
    headers[header] = sig
    items[#items + 1] = wrk.format("POST", nil, headers, body)
  end
end

function request()
  at = at % #items + 1
  return items[at]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"durationUs":%d,"requests":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,"non2xx":%d,"errors":%d}\n',
    summary.duration, summary.requests, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
