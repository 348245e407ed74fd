-- Appends a batch of one job's tasks to the stream of its concurrency key in one band of a queue,
-- puts the key on the band's key ring unless it is there, keeps the key's limit, and rings a bell
-- on the band's unkeyed stream (an entry without a job, which readers acknowledge and skip) so a
-- worker blocked reading the queue wakes and fetches through fetch.lua.
-- KEYS[1]  the key's ready stream
-- KEYS[2]  the band's key ring
-- KEYS[3]  the key's limit
-- KEYS[4]  the band's unkeyed ready stream
-- KEYS[5]  the band's count of keyed tasks not yet read
-- ARGV[1]  the job id
-- ARGV[2]  the concurrency key
-- ARGV[3]  the key's limit; 0 keeps the one set (a retry or a hand-back knows none)
-- ARGV[4…] task sequence numbers
-- Reply:   the number of entries appended
-- A limit is kept for a week after the last dispatch of the key, every append extending it; a key
-- whose limit was lost (Redis lost its data before the rebuild dispatched its jobs) gets 1.
local week = 7 * 24 * 3600 * 1000
for i = 4, #ARGV do
  redis.call('XADD', KEYS[1], '*', 'j', ARGV[1], 's', ARGV[i])
end
redis.call('INCRBY', KEYS[5], #ARGV - 3)
redis.call('ZADD', KEYS[2], 'NX', 0, ARGV[2])
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[3], ARGV[3], 'PX', week)
else
  redis.call('PEXPIRE', KEYS[3], week)
end
redis.call('XADD', KEYS[4], '*', 'b', '1')
return #ARGV - 3
