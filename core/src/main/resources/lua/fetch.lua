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
-- KEYS[1]  the queue's control hash (paused, rate, period in ms, tat in microseconds)
-- KEYS[2…] the queue's band streams, the highest band first (one hash tag with KEYS[1])
-- ARGV[1]  the consumer group
-- ARGV[2]  the consumer
-- ARGV[3]  the most entries to read; 0 only tells whether any are left
-- Reply:   {more, paused, wait, band, id, job, seq, band, id, job, seq, ...}: more is 1 when unread
--          entries are left in some band (0 when paused); paused is 1 when the queue is paused;
--          wait is -1 when the queue has no rate limit, else the ms until its next token (0 when one
--          was free); band is the 1-based index of the entry's stream among KEYS[2…]
local group, consumer = ARGV[1], ARGV[2]
local want = tonumber(ARGV[3])
local control = redis.call('HMGET', KEYS[1], 'paused', 'rate', 'period', 'tat')
if control[1] == '1' then
  return {0, 1, -1}
end
local reply = {0, 0, -1}

-- A token is free when the theoretical arrival time (tat, microseconds) is not in the future.
local rate, period = tonumber(control[2]), tonumber(control[3])
local now, tat, interval
if rate and period and rate > 0 then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
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

local read_count = 0
for band = 2, #KEYS do
  local key = KEYS[band]
  if want > 0 and redis.call('EXISTS', key) == 1 then
    local entries = read(key, want)
    if entries.err then
      return entries
    end
    for _, e in ipairs(entries) do
      local job, seq
      for i = 1, #e[2], 2 do
        if e[2][i] == 'j' then
          job = e[2][i + 1]
        elseif e[2][i] == 's' then
          seq = e[2][i + 1]
        end
      end
      reply[#reply + 1] = band - 1
      reply[#reply + 1] = e[1]
      reply[#reply + 1] = job or ''
      reply[#reply + 1] = seq or ''
      want = want - 1
      read_count = read_count + 1
    end
  end
  if reply[1] == 0 and unread(key) then
    reply[1] = 1
  end
end
if interval and read_count > 0 then
  redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat + read_count * interval))
end
return reply
