-- Reads up to a count of new entries of one queue for a consumer, its priority bands highest first,
-- and tells whether entries are left unread, so a worker reading several queues can share its free
-- slots among those that have work in one pipelined round trip. A band whose group is missing (never
-- used, or Redis lost it) gets it created from the stream's start, as the protocol does elsewhere.
-- The queue's control hash is read in the same call, so the checks cannot race the read: a paused
-- queue gives nothing (running tasks are not touched), and a rate-limited one gives at most one
-- entry per call, by a GCRA on Redis's clock. With P the period and N the rate, the emission
-- interval is T = (P + 60 ms) / N, and a token its worker reached late is kept for
-- K = min(T / 2, 20 ms) (the theoretical arrival time never falls further behind now). A start's
-- virtual time is at most K before its real one and virtual times are T apart, so any two starts N
-- apart are at least N * T - K >= P + 40 ms apart: no window of one period, wherever it lies, holds
-- more than N starts, however many workers fetch, and the 40 ms to spare absorb the time a busy
-- worker takes from this read to its claim in PostgreSQL, where the start is recorded.
--
-- Concurrency keys: a job with a concurrencyKey has its tasks on a stream of the key's own in each
-- band, and the band's key ring (a sorted set, least recently served first) lists the keys with
-- tasks not yet read. Within a band the unkeyed stream and the first 64 keys of the ring share the
-- entries wanted round-robin; a key takes part only while it has a free slot of its limit, and
-- each entry read of it takes one at once (holder "<entry id>/<band>", expiring a lease later unless
-- its worker renews it; the acknowledgement of the entry gives it back). A key that is full or
-- was served goes to the back of the ring, so every key comes round; one whose stream has nothing
-- left to read leaves the ring (enqueue_keyed.lua puts it back). The keys' own keys are built from
-- ARGV[4] and share the queue's hash tag, so on a Redis Cluster they are in this call's slot; the
-- band's count of keyed tasks not yet read (keyed-unread:<band>) goes down by what is read.
-- Entries without a job (the bells enqueue_keyed.lua rings on the unkeyed stream to wake blocked
-- readers) are acknowledged and deleted as they are read.
-- KEYS[1]  the queue's control hash (paused, rate, period in ms, tat in microseconds)
-- KEYS[2…] the queue's band streams, the highest band first, then each band's key ring in the same
--          order (one hash tag with KEYS[1])
-- ARGV[1]  the consumer group
-- ARGV[2]  the consumer
-- ARGV[3]  the most entries to read; 0 only tells whether any are left
-- ARGV[4]  what the queue's keys start with, its hash tag included
-- ARGV[5]  how long a key's slot lasts without renewal, in ms (the claim's lease)
-- Reply:   {more, paused, wait, band, id, job, seq, key, limit, ...}: more is 1 when entries that
--          could be read now are left in some band (0 when paused); paused is 1 when the queue is
--          paused; wait is -1 when the queue has no rate limit, else the ms until its next token (0
--          when one was free); band is the 1-based index of the entry's stream among the band
--          streams; key is the entry's concurrency key ('' for none) and limit that key's limit
local group, consumer = ARGV[1], ARGV[2]
local want = tonumber(ARGV[3])
local base, lease = ARGV[4], tonumber(ARGV[5])
local bands = (#KEYS - 1) / 2
local control = redis.call('HMGET', KEYS[1], 'paused', 'rate', 'period', 'tat')
if control[1] == '1' then
  return {0, 1, -1}
end
local reply = {0, 0, -1}

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

-- A token is free when the theoretical arrival time (tat, microseconds) is not in the future.
local rate, period = tonumber(control[2]), tonumber(control[3])
local tat, interval
if rate and period and rate > 0 then
  interval = math.ceil((period * 1000 + 60000) / rate)
  tat = math.max(tonumber(control[4]) or 0, now - math.min(math.floor(interval / 2), 20000))
  if tat > now then
    reply[3] = math.ceil((tat - now) / 1000)
    want = 0
  else
    reply[3] = 0
    want = math.min(want, 1)
  end
end

local function newer(a, b)
  local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
  local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
  ams, aseq, bms, bseq = tonumber(ams), tonumber(aseq), tonumber(bms), tonumber(bseq)
  return ams > bms or (ams == bms and aseq > bseq)
end

-- Whether the stream holds an entry the group has not delivered yet.
local function unread(key)
  local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if #last == 0 then
    return false
  end
  local groups = redis.pcall('XINFO', 'GROUPS', key)
  if groups.err then
    return true
  end
  for _, g in ipairs(groups) do
    local name, delivered
    for i = 1, #g, 2 do
      if g[i] == 'name' then
        name = g[i + 1]
      elseif g[i] == 'last-delivered-id' then
        delivered = g[i + 1]
      end
    end
    if name == group then
      return newer(last[1][1], delivered)
    end
  end
  return true
end

local function read(key, count)
  local r = redis.pcall('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', key, '>')
  if type(r) == 'table' and r.err then
    if not string.find(r.err, 'NOGROUP', 1, true) then
      return redis.error_reply(r.err)
    end
    redis.call('XGROUP', 'CREATE', key, group, '0', 'MKSTREAM')
    r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', key, '>')
  end
  if not r then
    return {}
  end
  return r[1][2]
end

-- Up to count entries of a stream as {id, job, seq}, bells acknowledged and skipped; the second
-- value tells whether the stream ran out of unread entries before count.
local function take(key, count)
  local out = {}
  for _ = 1, 4 do
    local asked = count - #out
    local entries = read(key, asked)
    if entries.err then
      return entries
    end
    local bells = {}
    for _, e in ipairs(entries) do
      local job, seq
      for i = 1, #e[2], 2 do
        if e[2][i] == 'j' then
          job = e[2][i + 1]
        elseif e[2][i] == 's' then
          seq = e[2][i + 1]
        end
      end
      if job then
        out[#out + 1] = {e[1], job, seq or ''}
      else
        bells[#bells + 1] = e[1]
      end
    end
    if #bells > 0 then
      redis.call('XACK', key, group, unpack(bells))
      redis.call('XDEL', key, unpack(bells))
    end
    if #entries < asked then
      return out, true
    end
    if #out >= count then
      return out, false
    end
  end
  return out, false
end

local read_count = 0
local function deliver(band, entry, key, limit)
  reply[#reply + 1] = band
  reply[#reply + 1] = entry[1]
  reply[#reply + 1] = entry[2]
  reply[#reply + 1] = entry[3]
  reply[#reply + 1] = key
  reply[#reply + 1] = limit
  want = want - 1
  read_count = read_count + 1
end

-- The band's unkeyed stream first, then its keys, each an equal share of what is wanted per pass.
local function serve(band, stream, ring)
  local bandname = string.match(ring, '[^:]+$')
  local parts = {}
  if redis.call('EXISTS', stream) == 1 then
    parts[1] = {}
  end
  local served = 0
  for _, key in ipairs(redis.call('ZRANGE', ring, 0, 63)) do
    parts[#parts + 1] = {key = key}
  end
  while want > 0 do
    local active = {}
    for _, p in ipairs(parts) do
      if not p.done then
        active[#active + 1] = p
      end
    end
    if #active == 0 then
      break
    end
    local share = math.max(1, math.floor(want / #active))
    for _, p in ipairs(active) do
      if want == 0 then
        break
      end
      if not p.key then
        local got, short = take(stream, math.min(share, want))
        if got.err then
          return got
        end
        for _, e in ipairs(got) do
          deliver(band, e, '', 0)
        end
        p.done = short
      else
        local slots = base .. 'key-slots:' .. p.key
        local kstream = base .. 'kready:' .. bandname .. ':' .. p.key
        local limit = tonumber(redis.call('GET', base .. 'key-limit:' .. p.key)) or 1
        redis.call('ZREMRANGEBYSCORE', slots, '-inf', math.floor(now / 1000))
        local free = limit - redis.call('ZCARD', slots)
        served = served + 1
        redis.call('ZADD', ring, 'XX', now + served, p.key)
        if free <= 0 then
          p.done = true
        else
          local got, short = take(kstream, math.min(share, want, free))
          if got.err then
            return got
          end
          for _, e in ipairs(got) do
            redis.call('ZADD', slots, math.floor(now / 1000) + lease, e[1] .. '/' .. band)
            deliver(band, e, p.key, limit)
          end
          if #got > 0 then
            redis.call('PEXPIRE', slots, lease * 2)
            redis.call('DECRBY', base .. 'keyed-unread:' .. bandname, #got)
          end
          if short then
            p.done = true
            redis.call('ZREM', ring, p.key)
            if redis.call('XLEN', kstream) == 0 then
              redis.call('DEL', kstream)
            end
          end
        end
      end
    end
  end
  -- Left to read now: the unkeyed stream's unread entries, or a key not found full or drained.
  for _, p in ipairs(parts) do
    if reply[1] == 0 and not p.done and (p.key or unread(stream)) then
      reply[1] = 1
    end
  end
end

for band = 1, bands do
  local err = serve(band, KEYS[1 + band], KEYS[1 + bands + band])
  if err then
    return err
  end
end
if interval and read_count > 0 then
  redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat + read_count * interval))
end
return reply
