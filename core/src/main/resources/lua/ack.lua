-- Acknowledges and deletes a batch of stream entries, so finished work leaves no memory behind.
-- KEYS[1]  the queue's ready stream
-- ARGV[1]  the consumer group
-- ARGV[2…] entry ids
-- Reply:   the number of entries acknowledged
if #ARGV < 2 then
  return 0
end
local ids = {}
for i = 2, #ARGV do
  ids[#ids + 1] = ARGV[i]
end
local acked = redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
redis.call('XDEL', KEYS[1], unpack(ids))
return acked
