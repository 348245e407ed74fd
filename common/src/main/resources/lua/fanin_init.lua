-- Creates a job's fan-in counter unless it exists already (a re-dispatch must not reset progress).
-- KEYS[1]  the job's remaining-task counter
-- KEYS[2]  the job's bitmap of tasks already counted
-- ARGV[1]  the number of tasks not yet finished
-- ARGV[2…] sequence numbers of tasks already finished (marked in the bitmap; used when rebuilding)
-- Reply:   1 if the counter was created, 0 if it existed
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('DEL', KEYS[2])
for i = 2, #ARGV do
  redis.call('SETBIT', KEYS[2], ARGV[i], 1)
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
