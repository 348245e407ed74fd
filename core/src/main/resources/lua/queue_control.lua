-- Copies a queue's control state from PostgreSQL (and the coordinator's configured rate limit) into
-- the queue's control hash, which fetch.lua reads. The paused state is written only when its version
-- is newer than the one stored, so a slow writer holding an older state (a periodic sync that read
-- PostgreSQL before a resume committed) cannot undo a newer pause or resume. The rate limit has no
-- version: every coordinator carries the same SLUICE_QUEUE_RATE; changing it keeps the bucket's tat.
-- KEYS[1]  the queue's control hash
-- ARGV[1]  the version of the paused state in PostgreSQL (0 when the queue has no row)
-- ARGV[2]  1 when paused, 0 when not
-- ARGV[3]  the rate limit's tasks per period, 0 for none
-- ARGV[4]  the period in ms
-- Reply:   1 when the paused state was written, 0 when the stored one was as new or newer
local version = tonumber(ARGV[1])
local stored = tonumber(redis.call('HGET', KEYS[1], 'version')) or -1
local written = 0
if version > stored then
  redis.call('HSET', KEYS[1], 'version', ARGV[1], 'paused', ARGV[2])
  written = 1
end
if tonumber(ARGV[3]) > 0 then
  redis.call('HSET', KEYS[1], 'rate', ARGV[3], 'period', ARGV[4])
else
  redis.call('HDEL', KEYS[1], 'rate', 'period', 'tat')
end
return written
