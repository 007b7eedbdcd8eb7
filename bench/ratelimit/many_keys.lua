-- Each request from a random one of 100,000 users (x-user), so checks rarely share a key.
math.randomseed(os.time())
request = function()
  return wrk.format("GET", nil, { ["x-user"] = tostring(math.random(1, 100000)) })
end
