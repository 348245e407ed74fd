-- Acknowledges and deletes entries of a concurrency key's stream and gives back the key slots they
-- took (fetch.lua's holders "<entry id>/<band>"): every way an entry ends (its task committed, not
-- claimable, handed back or re-appended by the reaper) frees its slot here, at once. A stream left
-- empty is deleted and its key leaves the ring; a key with entries still to read rings a bell on
-- the band's unkeyed stream, so a worker blocked there wakes to take the freed slot.
-- KEYS[1]  the key's ready stream
-- KEYS[2]  the key's slots
-- KEYS[3]  the band's key ring
-- KEYS[4]  the band's unkeyed ready stream
-- ARGV[1]  the consumer group
-- ARGV[2]  the band's number (1-based, highest first)
-- ARGV[3]  the concurrency key
-- ARGV[4…] entry ids
-- Reply:   the number of entries acknowledged
if #ARGV < 4 then
  return 0
end
local ids, holders = {}, {}
for i = 4, #ARGV do
  ids[#ids + 1] = ARGV[i]
  holders[#holders + 1] = ARGV[i] .. '/' .. ARGV[2]
end
local acked = redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
redis.call('XDEL', KEYS[1], unpack(ids))
local freed = redis.call('ZREM', KEYS[2], unpack(holders))
if redis.call('XLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[3], ARGV[3])
elseif freed > 0 and redis.call('ZSCORE', KEYS[3], ARGV[3]) then
  redis.call('XADD', KEYS[4], '*', 'b', '1')
end
return acked
