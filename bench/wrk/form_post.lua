-- POST /notes/new as the logged-in user: the harness logs in, opens the form and
-- passes the session cookie(s) in BENCH_COOKIE and the urlencoded form, with its CSRF
-- token, in BENCH_FORM_BODY. Every answer must be 303 (validated, one row inserted);
-- any other is counted and reported as "Unexpected responses". The harness compares
-- the rows inserted with the requests wrk counted.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_FORM_BODY") or ""
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE") or ""
local threads = {}
unexpected = 0

function setup(thread)
   table.insert(threads, thread)
end

function response(status, headers, body)
   if status ~= 303 then
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
