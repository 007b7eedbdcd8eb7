-- GET /me as the logged-in user: the harness logs in first and passes the session
-- cookie in BENCH_COOKIE. Every answer must be 200 and carry the user's email
-- (BENCH_EMAIL); any other is counted and reported as "Unexpected responses".
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE") or ""
local email = os.getenv("BENCH_EMAIL") or "@"
local threads = {}
unexpected = 0

function setup(thread)
   table.insert(threads, thread)
end

function response(status, headers, body)
   if status ~= 200 or body == nil or not string.find(body, email, 1, true) then
      unexpected = unexpected + 1
   end
end

function done(summary, latency, requests)
   local total = 0
   for _, thread in ipairs(threads) do
      total = total + thread:get("unexpected")
   end
   io.write(string.format("Unexpected responses: %d\n", total))
end
