-- The shared frontier of a crawl in Redis (frontier_redis.c): every step that
-- must be atomic across workers is one call of this script, so no two workers
-- ever see a request half moved. KEYS[1] is the crawl's key prefix,
-- "acrawl:{NAME}:"; ARGV[1] names the step. Times are Redis's own clock (TIME),
-- never a worker's, so leases hold between machines whose clocks differ.
--
-- Keys under the prefix (docs/distributed.md says the same for users):
--   meta      hash: state (seeding | seeded | complete), seeder, seed_until,
--             fp (the spec's fingerprint), created
--   n         hash of counters: id, token, seen, done, failed, retries,
--             reclaimed, extra (late acks refused), dups
--   q         zset, the queue: member the request's id, score -priority;
--             ids are zero-padded, so equal priorities pop in order (FIFO)
--   d         zset, retries waiting: score the time they are due
--   qs        zset, suspects: requests whose lease expired (their worker
--             died or stalled), each given to a worker that holds nothing
--             else, so a page that kills workers takes no other down with it
--   l         zset, leases: score the time they expire
--   lt        hash: id -> "TOKEN WORKER": the fencing token of its lease and
--             who holds it
--   sb        hash: worker -> "BATCH:STATUSES", its last outcomes' answer
--   r         hash: id -> "priority|record" (the request as JSON), kept
--             while the request is queued, delayed, leased or failed
--   a         hash: id -> attempts made (after a retry only)
--   k         hash: id -> times its lease expired (after one only)
--   f         hash: id -> the failure as JSON
--   fr        list: the last 10,000 records that could not be followed, as
--             JSON {"u": the page, "why": ...} (counted in n's records_failed)
--   w         zset: worker -> when it was last heard of
--   wi        hash: worker -> what it says of itself (JSON)
--   s:XXXX    set of 64-bit fingerprints, bucket XXXX of the dedup set
--   h:HOST    hash: next (the earliest start the host's rate allows),
--             pause (Retry-After: nothing starts there before it)
--   hs:HOST   zset: the host's slots in use -> when their lease expires
local P = KEYS[1]
local cmd = ARGV[1]

-- Every step works on batches: one command with many members where Redis
-- has one (HMGET, ZADD, HDEL...), so that a request costs a few members
-- in a few commands, not commands of its own.

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function gone()
  return redis.error_reply('ACRAWL_GONE the crawl\'s keys are gone from Redis')
end

-- command key [opt] args...: in chunks (of pairs, for ZADD and HSET), as
-- Lua's unpack has a limit of its own.
local function many(command, key, args, opt)
  local n = #args
  local i = 1
  while i <= n do
    local j = math.min(n, i + 999)
    if opt then
      redis.call(command, key, opt, unpack(args, i, j))
    else
      redis.call(command, key, unpack(args, i, j))
    end
    i = j + 1
  end
end

-- HMGET in chunks: the values in order.
local function hmget(key, ids)
  local out = {}
  local n = #ids
  local i = 1
  while i <= n do
    local j = math.min(n, i + 999)
    local got = redis.call('HMGET', key, unpack(ids, i, j))
    for k = 1, #got do out[#out + 1] = got[k] end
    i = j + 1
  end
  return out
end

local function count(name, by)
  if by ~= 0 then redis.call('HINCRBY', P .. 'n', name, by) end
end

local function prio_of(rec)
  return tonumber(string.match(rec, '^(-?%d+)|'))
end

-- Requests into a queue (q, or qs for suspects), each with its own
-- priority.
local function requeue(ids, queue)
  if #ids == 0 then return end
  local recs = hmget(P .. 'r', ids)
  local z = {}
  for i = 1, #ids do
    if recs[i] then
      z[#z + 1] = -prio_of(recs[i])
      z[#z + 1] = ids[i]
    end
  end
  if #z > 0 then many('ZADD', P .. (queue or 'q'), z) end
end

-- The token of a lease from lt's value ("TOKEN WORKER").
local function token_of(v)
  return v and string.match(v, '^%d+') or nil
end

-- Follows at ARGV[i..]: n of (bucket, fingerprint, priority, record); an
-- empty bucket skips dedup (a page read again on purpose). Returns the
-- index past them; each one's 1 (new) or 0 (seen) goes into out if given.
local function add_at(i, n, out)
  local fresh = {}
  for _ = 1, n do
    local bucket = ARGV[i]
    local new = 1
    if bucket ~= '' then new = redis.call('SADD', P .. bucket, ARGV[i + 1]) end
    if new == 1 then fresh[#fresh + 1] = i end
    if out then out[#out + 1] = new end
    i = i + 4
  end
  local k = #fresh
  count('dups', n - k)
  if k > 0 then
    local last = redis.call('HINCRBY', P .. 'n', 'id', k)
    local r, q = {}, {}
    for j = 1, k do
      local at = fresh[j]
      local id = string.format('%012d', last - k + j)
      r[#r + 1] = id
      r[#r + 1] = ARGV[at + 2] .. '|' .. ARGV[at + 3]
      q[#q + 1] = -tonumber(ARGV[at + 2])
      q[#q + 1] = id
    end
    many('HSET', P .. 'r', r)
    many('ZADD', P .. 'q', q)
    count('seen', k)
  end
  return i
end

local function counts()
  return redis.call('ZCARD', P .. 'q') + redis.call('ZCARD', P .. 'qs'),
         redis.call('ZCARD', P .. 'd'), redis.call('ZCARD', P .. 'l')
end

if cmd == 'join' then
  -- join WORKER FINGERPRINT LEASE_MS -> {state}; "seed": this worker seeds.
  local worker, fp, lease = ARGV[2], ARGV[3], tonumber(ARGV[4])
  local now = now_ms()
  local meta = P .. 'meta'
  redis.call('ZADD', P .. 'w', now, worker)
  if redis.call('EXISTS', meta) == 0 then
    redis.call('HSET', meta, 'state', 'seeding', 'seeder', worker, 'seed_until', now + lease,
               'fp', fp, 'created', now)
    return {'seed'}
  end
  if redis.call('HGET', meta, 'fp') ~= fp then
    return redis.error_reply('ACRAWL_SPEC the crawl in Redis was started with another spec')
  end
  local state = redis.call('HGET', meta, 'state')
  if state == 'seeding' and tonumber(redis.call('HGET', meta, 'seed_until')) < now then
    -- The seeder died before its start returned: this worker runs it again
    -- (what it had followed is seen, so nothing is doubled).
    redis.call('HSET', meta, 'seeder', worker, 'seed_until', now + lease)
    return {'seed'}
  end
  return {state}
end

if redis.call('EXISTS', P .. 'meta') == 0 then return gone() end

if cmd == 'seeded' then
  -- seeded WORKER -> state: the start has returned and its follows are in.
  local meta = P .. 'meta'
  if redis.call('HGET', meta, 'seeder') == ARGV[2] and
     redis.call('HGET', meta, 'state') == 'seeding' then
    redis.call('HSET', meta, 'state', 'seeded')
  end
  return redis.call('HGET', meta, 'state')
end

if cmd == 'add' then
  -- add N (BUCKET FP PRIORITY RECORD)... -> {queued, new1, ..., newN}
  local out = {0}
  add_at(3, tonumber(ARGV[2]), out)
  out[1] = redis.call('ZCARD', P .. 'q')
  return out
end

if cmd == 'take' then
  -- take WORKER N LEASE_MS MAX_RECLAIMS ALONE ->
  --   {state, queued, delayed, leased, next_due_ms, suspects, suspect,
  --    (id, token, attempts, record)...}
  -- ALONE 1: the worker holds nothing, and gets a suspect if one waits (and
  -- then only it: suspect 1). suspects: how many wait for such a worker.
  local worker, n, lease, max_reclaims = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]),
                                         tonumber(ARGV[5])
  local alone = ARGV[6] == '1'
  local now = now_ms()
  redis.call('ZADD', P .. 'w', now, worker)
  -- Leases that expired: their worker died or stalled. Back in the queue, or
  -- with the failures once a request has outlived too many workers.
  local expired = redis.call('ZRANGEBYSCORE', P .. 'l', '-inf', now, 'LIMIT', 0, 64)
  if #expired > 0 then
    many('ZREM', P .. 'l', expired)
    many('HDEL', P .. 'lt', expired)
    count('reclaimed', #expired)
    local back = {}
    for _, id in ipairs(expired) do
      local k = redis.call('HINCRBY', P .. 'k', id, 1)
      if k > max_reclaims then
        local rec = redis.call('HGET', P .. 'r', id) or '0|{}'
        local ok, req = pcall(cjson.decode, string.match(rec, '^-?%d+|(.*)$'))
        local url = ok and type(req) == 'table' and req.u or '?'
        redis.call('HSET', P .. 'f', id, cjson.encode({
          u = url, cause = 'other', code = 0, status = 0,
          attempts = tonumber(redis.call('HGET', P .. 'a', id) or '0') + k,
          why = 'its lease expired ' .. k .. ' times: every worker that took it died or ' ..
                'stalled (a page that kills the worker?)'}))
        -- Its record stays (in r), for retry_failed.
        redis.call('HDEL', P .. 'a', id)
        redis.call('HDEL', P .. 'k', id)
        count('failed', 1)
      else
        back[#back + 1] = id
      end
    end
    requeue(back, 'qs')
  end
  local due = redis.call('ZRANGEBYSCORE', P .. 'd', '-inf', now, 'LIMIT', 0, 256)
  if #due > 0 then
    many('ZREM', P .. 'd', due)
    requeue(due)
  end
  local out = {'', 0, 0, 0, -1, 0, 0}
  local got = {}
  if alone and n > 0 then got = redis.call('ZPOPMIN', P .. 'qs', 1) end
  if #got > 0 then
    out[7] = 1
  elseif n > 0 then
    got = redis.call('ZPOPMIN', P .. 'q', n)
  end
  if #got > 0 then
    local ids = {}
    for i = 1, #got, 2 do ids[#ids + 1] = got[i] end
    local last = redis.call('HINCRBY', P .. 'n', 'token', #ids)
    local recs = hmget(P .. 'r', ids)
    local atts = hmget(P .. 'a', ids)
    local l, lt = {}, {}
    for i = 1, #ids do
      if recs[i] then
        local token = tostring(last - #ids + i)
        l[#l + 1] = now + lease
        l[#l + 1] = ids[i]
        lt[#lt + 1] = ids[i]
        lt[#lt + 1] = token .. ' ' .. worker
        out[#out + 1] = ids[i]
        out[#out + 1] = token
        out[#out + 1] = atts[i] or '0'
        out[#out + 1] = string.match(recs[i], '^-?%d+|(.*)$')
      end
    end
    if #l > 0 then
      many('ZADD', P .. 'l', l)
      many('HSET', P .. 'lt', lt)
    end
  end
  local q, d, l = counts()
  local state = redis.call('HGET', P .. 'meta', 'state')
  if state == 'seeding' and tonumber(redis.call('HGET', P .. 'meta', 'seed_until')) < now then
    -- The seeder died before its start returned: this worker seeds again.
    redis.call('HSET', P .. 'meta', 'seeder', worker, 'seed_until', now + lease)
    state = 'seed'
  end
  if state == 'seeded' and q + d + l == 0 then
    redis.call('HSET', P .. 'meta', 'state', 'complete')
    state = 'complete'
  end
  out[1], out[2], out[3], out[4] = state, q, d, l
  out[6] = redis.call('ZCARD', P .. 'qs')
  local first = redis.call('ZRANGE', P .. 'd', 0, 0, 'WITHSCORES')
  if #first > 0 then out[5] = math.max(0, tonumber(first[2]) - now) end
  return out
end

if cmd == 'settle' then
  -- settle WORKER BATCH N OP... -> {status1, ..., statusN}: 1 done, 0
  -- refused (the lease was taken over: a late answer, counted in "extra").
  -- BATCH numbers the worker's batches: the same batch sent again (its
  -- answer was lost) gets the answer it had, and changes nothing. The ops:
  --   d ID TOKEN NCHILD (BUCKET FP PRIORITY RECORD)...  done, with its follows
  --   r ID TOKEN DELAY_MS ATTEMPTS                      retry after the delay
  --   f ID TOKEN FAILURE_JSON                           failed for good
  --   b ID TOKEN                                        back, never fetched
  --   h HOST SLOT                                       a host's slot given back
  --   p HOST MS                                         the host pauses (Retry-After)
  --   x URL WHY                                         a record of that page failed
  local worker, batch, n = ARGV[2], ARGV[3], tonumber(ARGV[4])
  local last = redis.call('HGET', P .. 'sb', worker)
  if last and string.sub(last, 1, #batch + 1) == batch .. ':' then
    local again = {}
    for j = #batch + 2, #last do again[#again + 1] = tonumber(string.sub(last, j, j)) end
    return again
  end
  local now = now_ms()
  -- First where each op is, and the tokens of every lease they name.
  local at, ids = {}, {}
  local i = 5
  for j = 1, n do
    local op = ARGV[i]
    at[j] = i
    if op == 'd' then
      ids[#ids + 1] = ARGV[i + 1]
      i = i + 4 + 4 * tonumber(ARGV[i + 3])
    elseif op == 'r' then
      ids[#ids + 1] = ARGV[i + 1]
      i = i + 5
    elseif op == 'f' then
      ids[#ids + 1] = ARGV[i + 1]
      i = i + 4
    elseif op == 'b' then
      ids[#ids + 1] = ARGV[i + 1]
      i = i + 3
    elseif op == 'h' or op == 'p' or op == 'x' then
      i = i + 3
    else
      return redis.error_reply('ACRAWL_BAD unknown settle op ' .. tostring(op))
    end
  end
  local tokens = {}
  if #ids > 0 then
    local got = hmget(P .. 'lt', ids)
    for j = 1, #ids do tokens[ids[j]] = token_of(got[j]) end
  end
  local out = {}
  local unleased, forgotten, back, delayed, attempts, failures = {}, {}, {}, {}, {}, {}
  local done, failed, retries, extra = 0, 0, 0, 0
  for j = 1, n do
    local k = at[j]
    local op, id, token = ARGV[k], ARGV[k + 1], ARGV[k + 2]
    local ok = true
    if op == 'h' then
      redis.call('ZREM', P .. 'hs:' .. id, token)
    elseif op == 'x' then
      -- The last 10,000 are kept; the count goes on.
      redis.call('RPUSH', P .. 'fr', cjson.encode({u = id, why = token}))
      redis.call('LTRIM', P .. 'fr', -10000, -1)
      count('records_failed', 1)
    elseif op == 'p' then
      local hk = P .. 'h:' .. id
      local until_ms = now + tonumber(token)
      if tonumber(redis.call('HGET', hk, 'pause') or '0') < until_ms then
        redis.call('HSET', hk, 'pause', until_ms)
      end
    else
      -- One op per lease: a second one of the same batch finds it gone.
      ok = tokens[id] == token
      if ok then
        tokens[id] = nil
        unleased[#unleased + 1] = id
        if op == 'd' then
          forgotten[#forgotten + 1] = id
          done = done + 1
          add_at(k + 4, tonumber(ARGV[k + 3]), nil)
        elseif op == 'r' then
          delayed[#delayed + 1] = now + tonumber(ARGV[k + 3])
          delayed[#delayed + 1] = id
          attempts[#attempts + 1] = id
          attempts[#attempts + 1] = ARGV[k + 4]
          retries = retries + 1
        elseif op == 'f' then
          -- Its record stays (in r), for retry_failed.
          failures[#failures + 1] = id
          failures[#failures + 1] = ARGV[k + 3]
          failed = failed + 1
        else
          back[#back + 1] = id
        end
      else
        extra = extra + 1
      end
    end
    out[#out + 1] = ok and 1 or 0
  end
  if #unleased > 0 then
    many('ZREM', P .. 'l', unleased)
    many('HDEL', P .. 'lt', unleased)
  end
  if #forgotten > 0 then
    many('HDEL', P .. 'r', forgotten)
    many('HDEL', P .. 'a', forgotten)
    many('HDEL', P .. 'k', forgotten)
  end
  if #delayed > 0 then
    many('ZADD', P .. 'd', delayed)
    many('HSET', P .. 'a', attempts)
  end
  if #failures > 0 then
    many('HSET', P .. 'f', failures)
    local ids = {}
    for j = 1, #failures, 2 do ids[#ids + 1] = failures[j] end
    many('HDEL', P .. 'a', ids)
    many('HDEL', P .. 'k', ids)
  end
  requeue(back)
  count('done', done)
  count('failed', failed)
  count('retries', retries)
  count('extra', extra)
  redis.call('HSET', P .. 'sb', worker, batch .. ':' .. table.concat(out))
  return out
end

if cmd == 'renew' then
  -- renew WORKER LEASE_MS INFO N (ID TOKEN)... NSLOTS (HOST SLOT)...
  --   -> the ids whose lease is lost
  local worker, lease = ARGV[2], tonumber(ARGV[3])
  local now = now_ms()
  redis.call('ZADD', P .. 'w', now, worker)
  redis.call('HSET', P .. 'wi', worker, ARGV[4])
  local meta = P .. 'meta'
  if redis.call('HGET', meta, 'seeder') == worker and
     redis.call('HGET', meta, 'state') == 'seeding' then
    redis.call('HSET', meta, 'seed_until', now + lease)
  end
  local lost, ids, l = {}, {}, {}
  local i = 6
  local nids = tonumber(ARGV[5])
  for j = 1, nids do ids[j] = ARGV[i + 2 * (j - 1)] end
  local tokens = hmget(P .. 'lt', ids)
  for j = 1, nids do
    if token_of(tokens[j]) == ARGV[i + 2 * (j - 1) + 1] then
      l[#l + 1] = now + lease
      l[#l + 1] = ids[j]
    else
      lost[#lost + 1] = ids[j]
    end
  end
  if #l > 0 then many('ZADD', P .. 'l', l, 'XX') end
  i = i + 2 * nids
  -- then NSLOTS (HOST SLOT)...: the host slots this worker holds
  for _ = 1, tonumber(ARGV[i] or '0') do
    redis.call('ZADD', P .. 'hs:' .. ARGV[i + 1], 'XX', now + lease, ARGV[i + 2])
    i = i + 2
  end
  return lost
end

if cmd == 'recover' then
  -- recover WORKER N ID... -> how many came back: the leases WORKER holds
  -- but does not know of (a take whose answer it never got: a timeout, a
  -- lost connection) go back to the queue, never fetched.
  local worker = ARGV[2]
  local known = {}
  for j = 1, tonumber(ARGV[3]) do known[ARGV[3 + j]] = true end
  local lt = redis.call('HGETALL', P .. 'lt')
  local mine = {}
  local suffix = ' ' .. worker
  for j = 1, #lt, 2 do
    local v = lt[j + 1]
    if string.sub(v, -#suffix) == suffix and not known[lt[j]] then mine[#mine + 1] = lt[j] end
  end
  if #mine > 0 then
    many('ZREM', P .. 'l', mine)
    many('HDEL', P .. 'lt', mine)
    requeue(mine)
  end
  return #mine
end

if cmd == 'host' then
  -- host HOST SLOT PER_HOST INTERVAL_MS LEASE_MS -> {code, ms}: 0 the slot
  -- is this worker's, start in ms (the host's rate reserves start times
  -- INTERVAL_MS apart for the whole crawl); 1 every slot is taken (ask
  -- again); 2 the host pauses for ms more (Retry-After). A slot is leased
  -- like a request, so a dead worker's slots come back.
  local host, slot = ARGV[2], ARGV[3]
  local per_host, interval, lease = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
  local hk, sk = P .. 'h:' .. host, P .. 'hs:' .. host
  local now = now_ms()
  redis.call('ZREMRANGEBYSCORE', sk, '-inf', now)
  local pause = tonumber(redis.call('HGET', hk, 'pause') or '0')
  if pause > now then return {2, pause - now} end
  if per_host > 0 and redis.call('ZCARD', sk) >= per_host and
     not redis.call('ZSCORE', sk, slot) then
    return {1, 0}
  end
  local wait = 0
  if interval > 0 then
    local start = math.max(now, tonumber(redis.call('HGET', hk, 'next') or '0'))
    redis.call('HSET', hk, 'next', start + interval)
    wait = start - now
  end
  redis.call('ZADD', sk, now + wait + lease, slot)
  return {0, wait}
end

if cmd == 'retry_failed' then
  -- retry_failed CURSOR COUNT -> {next cursor, moved}: the failures an HSCAN
  -- from CURSOR finds go back to the queue, their attempts and reclaims
  -- forgotten; one whose request was not kept stays failed. A crawl that
  -- was complete is seeded again: it is not complete while they wait. The
  -- caller goes on until the cursor is 0 again; sent twice (an answer
  -- lost), a step finds the failures it moved gone.
  local got = redis.call('HSCAN', P .. 'f', ARGV[2], 'COUNT', tonumber(ARGV[3]))
  local ids, back = {}, {}
  for j = 1, #got[2], 2 do ids[#ids + 1] = got[2][j] end
  if #ids > 0 then
    local recs = hmget(P .. 'r', ids)
    for j = 1, #ids do
      if recs[j] then back[#back + 1] = ids[j] end
    end
  end
  if #back > 0 then
    many('HDEL', P .. 'f', back)
    many('HDEL', P .. 'a', back)
    many('HDEL', P .. 'k', back)
    requeue(back)
    count('failed', -#back)
    if redis.call('HGET', P .. 'meta', 'state') == 'complete' then
      redis.call('HSET', P .. 'meta', 'state', 'seeded')
    end
  end
  return {got[1], #back}
end

if cmd == 'status' then
  -- status RECENT_MS -> {name, value, ...}
  local now = now_ms()
  local q, d, l = counts()
  local out = {'state', redis.call('HGET', P .. 'meta', 'state'), 'queued', q, 'delayed', d,
               'leased', l,
               'workers', redis.call('ZCOUNT', P .. 'w', now - tonumber(ARGV[2]), '+inf'),
               'now', now, 'created', redis.call('HGET', P .. 'meta', 'created')}
  local n = redis.call('HGETALL', P .. 'n')
  for j = 1, #n do out[#out + 1] = n[j] end
  return out
end

return redis.error_reply('ACRAWL_BAD unknown command ' .. tostring(cmd))
