-- wrk script: cycle over the request paths listed in a file, one a line.
--   wrk -t1 -c64 -d5s -s bench/wrk_cycle.lua http://HOST:PORT -- PATHS_FILE
local paths = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then paths[#paths + 1] = line end
  end
  if #paths == 0 then error("wrk_cycle.lua: no paths in " .. tostring(args[1])) end
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
