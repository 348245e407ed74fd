-- Counts requeued tasks as unfinished again: clears each one's mark in the bitmap and adds it back to the
-- remaining counter, so that its next completion is counted once more.
-- KEYS[1]  the job's remaining-task counter
-- KEYS[2]  the job's bitmap of tasks already counted
-- ARGV[…]  sequence numbers of the requeued tasks
-- Reply:   remaining after this call, or -1 when the counter is missing (the caller rebuilds it from
--          PostgreSQL)
-- Only a marked task is added back, so repeating the call cannot count a task as unfinished twice.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
local reopened = 0
for i = 1, #ARGV do
  if redis.call('SETBIT', KEYS[2], ARGV[i], 0) == 1 then
    reopened = reopened + 1
  end
end
if reopened == 0 then
  return tonumber(redis.call('GET', KEYS[1]))
end
return redis.call('INCRBY', KEYS[1], reopened)
