-- Sets bits in a bitmap, a batch at a time (used to stage a job's finished tasks when rebuilding).
-- KEYS[1]  the bitmap
-- ARGV[…]  bit offsets (task sequence numbers)
-- Reply:   the number of offsets set
for i = 1, #ARGV do
  redis.call('SETBIT', KEYS[1], ARGV[i], 1)
end
return #ARGV
