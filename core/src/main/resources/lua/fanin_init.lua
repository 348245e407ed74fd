-- Creates a job's fan-in counter unless it exists already (a re-dispatch must not reset progress).
-- KEYS[1]  the job's remaining-task counter
-- KEYS[2]  the job's bitmap of tasks already counted
-- KEYS[3]  a staging bitmap of tasks already finished, filled by bitmap_mark.lua when rebuilding
-- ARGV[1]  the number of tasks not yet finished (consistent with the staging bitmap)
-- Reply:   1 if the counter was created, 0 if it existed
-- Counter and bitmap appear together in one step, so no fan-in call sees one without the other.
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('DEL', KEYS[3])
  return 0
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('RENAME', KEYS[3], KEYS[2])
else
  redis.call('DEL', KEYS[2])
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
