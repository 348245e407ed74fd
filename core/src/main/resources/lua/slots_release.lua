-- Gives a holder's slots back (its task finished, failed or was cancelled). Idempotent: releasing a
-- slot twice, or one that expired, removes nothing more.
-- KEYS[1…n]  the counters' holder sets
-- ARGV[1]    the holder
-- Reply:     the number of slots released
local released = 0
for i = 1, #KEYS do
  released = released + redis.call('ZREM', KEYS[i], ARGV[1])
end
return released
