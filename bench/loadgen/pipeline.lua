-- wrk script of whirl's bench: each connection sends `depth` requests at a
-- time (pipelining, as TechEmpower's plaintext test does with 16) and wrk
-- waits for all their answers before it sends the next batch.
--
--   wrk -t1 -c256 -d5s -s pipeline.lua http://127.0.0.1:8080/plaintext -- 16
--
-- done() prints one machine-readable line, WRKRESULT followed by: duration
-- (us), requests, bytes read, connect/read/write/status/timeout errors, and
-- the 50th, 99th and 99.9th latency percentiles, the maximum and the mean
-- (us). A non-2xx/3xx answer counts as a status error.
local req

init = function(args)
  local depth = tonumber(args[1]) or 16
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format(nil, wrk.path)
  end
  req = table.concat(r)
end

request = function()
  return req
end

done = function(s, lat, reqs)
  local e = s.errors
  io.write(string.format("WRKRESULT %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f\n",
    s.duration, s.requests, s.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    lat:percentile(50), lat:percentile(99), lat:percentile(99.9), lat.max, lat.mean))
end
