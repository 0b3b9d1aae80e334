-- POST one GraphQL document per request, signed in as a rotating bench user (or anonymously).
-- wrk -s bench/wrk/graphql.lua URL -- <document file> <variables JSON> <viewers: 0 = anonymous>
local viewers = 0
local body = ""
local counter = 0

local function read(path)
  local file = assert(io.open(path, "r"))
  local text = file:read("*a")
  file:close()
  return text
end

local function quote(text)
  return '"' .. text:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", "\\n") .. '"'
end

function init(args)
  body = '{"query": ' .. quote(read(args[1])) .. ', "variables": ' .. (args[2] or "{}") .. "}"
  viewers = tonumber(args[3] or "0")
end

function request()
  local headers = { ["Content-Type"] = "application/json" }
  if viewers > 0 then
    counter = counter + 1
    headers["Authorization"] = string.format("Bearer eph_bench_%08d", (counter * 7919) % viewers)
  end
  return wrk.format("POST", "/graphql", headers, body)
end

function response(status, headers, body)
  if status ~= 200 or body:find('"errors"') then
    io.stderr:write("unexpected answer " .. status .. ": " .. body:sub(1, 300) .. "\n")
    os.exit(1)
  end
end
