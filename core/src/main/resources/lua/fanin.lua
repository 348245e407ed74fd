-- Counts a batch of one job's finished tasks towards its fan-in, once per task.
-- KEYS[1]  the job's remaining-task counter
-- KEYS[2]  the job's bitmap of tasks already counted
-- ARGV[…]  sequence numbers of tasks that reached a terminal state
-- Reply:   {remaining, crossed}: remaining after this call (-1 when the counter is missing, i.e. Redis
--          lost it and the caller must fall back to PostgreSQL's counts); crossed is 1 for the one call
--          that brought remaining to zero, 0 for every other call.
-- A redelivered task is marked already and decrements nothing: the count can never go below zero twice.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {-1, 0}
end
local fresh = 0
for i = 1, #ARGV do
  if redis.call('SETBIT', KEYS[2], ARGV[i], 1) == 0 then
    fresh = fresh + 1
  end
end
local before = tonumber(redis.call('GET', KEYS[1]))
if fresh == 0 then
  return {before, 0}
end
local after = redis.call('DECRBY', KEYS[1], fresh)
if before > 0 and after <= 0 then
  return {after, 1}
end
return {after, 0}
