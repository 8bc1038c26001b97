-- wrk script of bench/http_bench.py: sends prepared raw HTTP requests in turn, counts the answers
-- that are what the endpoint should give, and prints one parseable line at the end.
--
--   wrk -t1 -c16 -d8s -s bench/wrk.lua http://127.0.0.1:PORT -- REQUESTS_FILE EXPECTED TAG
--
-- REQUESTS_FILE holds complete requests separated by a line "@@@@"; "{n}" in a request becomes a
-- text unique within the run (TAG-thread-counter), for idempotency keys and cache-busting query
-- strings (Content-Length is then counted again). EXPECTED is a status ("200", "304"), a status and
-- the start of the Location header ("302:/commandes/"), or "any" (any status below 400). Every request of the file is sent before any is sent again ("wrapped"
-- counts the turns after the first: a pool of single-use sessions was too small).

local requests_list = {}
local expected_status, expected_location, tag
local counter, index, ok, bad, wrapped = 0, 0, 0, 0, 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local handle = assert(io.open(args[1], "rb"))
  local text = handle:read("*a")
  handle:close()
  for raw in string.gmatch(text .. "\n@@@@\n", "(.-)\n@@@@\n") do
    if #raw > 0 then
      table.insert(requests_list, raw)
    end
  end
  if args[2] ~= "any" then
    local status, location = string.match(args[2], "^(%d+):?(.*)$")
    expected_status = tonumber(status)
    expected_location = location ~= "" and location or nil
  end
  tag = args[3] or "run"
  -- Each thread starts elsewhere in the list, so two threads do not send the same request.
  index = ((thread_id or 1) - 1) * math.floor(#requests_list / 4)
end

function request()
  index = index + 1
  if index > #requests_list then
    index = 1
    wrapped = wrapped + 1
  end
  counter = counter + 1
  local raw = requests_list[index]
  if not string.find(raw, "{n}", 1, true) then
    return raw
  end
  local unique = tag .. "-" .. tostring(thread_id or 1) .. "-" .. tostring(counter)
  raw = string.gsub(raw, "{n}", unique)
  local head, body = string.match(raw, "^(.-\r\n\r\n)(.*)$")
  if #body > 0 then
    head = string.gsub(head, "Content%-Length: %d+", "Content-Length: " .. #body)
  end
  return head .. body
end

function response(status, headers, body)
  local good
  if expected_status == nil then
    good = status < 400
  else
    good = status == expected_status
  end
  if good and expected_location then
    local location = headers["Location"] or headers["location"] or ""
    good = string.find(location, expected_location, 1, true) ~= nil
  end
  if good then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local total_ok, total_bad, total_wrapped = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + (thread:get("ok") or 0)
    total_bad = total_bad + (thread:get("bad") or 0)
    total_wrapped = total_wrapped + (thread:get("wrapped") or 0)
  end
  local errors = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d ok=%d bad=%d "
      .. "wrapped=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, total_ok, total_bad, total_wrapped,
    errors.connect, errors.read, errors.write, errors.timeout
  ))
end
