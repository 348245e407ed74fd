-- Reads up to a count of new entries of one queue for a consumer, its priority bands highest first,
-- and tells whether entries are left unread, so a worker reading several queues can share its free
-- slots among those that have work in one pipelined round trip. A band whose group is missing (never
-- used, or Redis lost it) gets it created from the stream's start, as the protocol does elsewhere.
-- KEYS     the queue's band streams, the highest band first (one hash tag)
-- ARGV[1]  the consumer group
-- ARGV[2]  the consumer
-- ARGV[3]  the most entries to read; 0 only tells whether any are left
-- Reply:   {more, band, id, job, seq, band, id, job, seq, ...}: more is 1 when unread entries are
--          left in some band; band is the 1-based index in KEYS of the entry's stream
local group, consumer = ARGV[1], ARGV[2]
local want = tonumber(ARGV[3])
local reply = {0}

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

for band, key in ipairs(KEYS) do
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
      reply[#reply + 1] = band
      reply[#reply + 1] = e[1]
      reply[#reply + 1] = job or ''
      reply[#reply + 1] = seq or ''
      want = want - 1
    end
  end
  if reply[1] == 0 and unread(key) then
    reply[1] = 1
  end
end
return reply
