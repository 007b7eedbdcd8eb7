-- POST /items with a valid JSON item; the harness checks the echo before measuring.
wrk.method = "POST"
wrk.body = '{"name":"widget","price":9.99,"tags":["red","blue"]}'
wrk.headers["Content-Type"] = "application/json"
