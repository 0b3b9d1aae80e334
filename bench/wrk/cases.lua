-- POST prepared GraphQL requests in turn, each with its own token and variables.
-- wrk -s bench/wrk/cases.lua URL -- <cases file>
-- A cases file has one request a line: `<token or ->\t<JSON body>` (bench/common.py write_cases).
local requests = {}
local counter = 0

function init(args)
  for line in io.lines(args[1]) do
    local token, body = line:match("^([^\t]*)\t(.*)$")
    local headers = { ["Content-Type"] = "application/json" }
    if token ~= "-" then
      headers["Authorization"] = "Bearer " .. token
    end
    requests[#requests + 1] = wrk.format("POST", "/graphql", headers, body)
  end
  -- Threads start at different places so they do not ask for the same page at once.
  counter = math.random(#requests)
end

function request()
  counter = counter % #requests + 1
  return requests[counter]
end

function response(status, headers, body)
  if status ~= 200 or body:find('"errors"') then
    io.stderr:write("unexpected answer " .. status .. ": " .. body:sub(1, 300) .. "\n")
    os.exit(1)
  end
end
