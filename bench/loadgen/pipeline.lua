-- wrk script of whirl's bench: each connection sends `depth` requests at a
-- time (pipelining, as TechEmpower's plaintext test does with 16) and wrk
-- waits for all their answers before it sends the next batch.
--
--   wrk -t1 -c256 -d5s -s pipeline.lua http://127.0.0.1:8080/plaintext -- 16
--
-- done() prints one machine-readable line, WRKRESULT followed by: duration
-- (us), requests, bytes read, connect/read/write/status/timeout errors, and
-- the 50th, 99th and 99.9th latency percentiles, the maximum and the mean
-- (us). A non-2xx/3xx answer counts as a status error. The percentiles and
-- the mean are over the samples wrk's percentile() can reach (see visible).
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

-- visible returns the share (0 to 1) of wrk's latency count that its
-- percentile() can reach. wrk 4.1's coordinated-omission correction adds
-- samples below the recorded minimum without lowering the minimum, and
-- percentile() sums from the minimum: a rank past the reachable samples
-- returns 0 (wrk issue #354, p99 of 0 under pipelining). percentile(p) is not
-- 0 exactly while p/100 of the count is reachable, so a bisection finds it.
local function visible(lat)
  if lat:percentile(100) > 0 then
    return 1
  end
  local lo, hi = 0, 100
  for _ = 1, 40 do
    local mid = (lo + hi) / 2
    if lat:percentile(mid) > 0 then lo = mid else hi = mid end
  end
  return lo / 100
end

done = function(s, lat, reqs)
  local e = s.errors
  local v = visible(lat)
  local function pct(p)
    if v <= 0 then return 0 end
    return lat:percentile(p * v)
  end
  io.write(string.format("WRKRESULT %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f\n",
    s.duration, s.requests, s.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    pct(50), pct(99), pct(99.9), lat.max, v > 0 and lat.mean / v or 0))
end
