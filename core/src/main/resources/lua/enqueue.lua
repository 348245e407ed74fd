-- Appends a batch of one job's tasks to a queue's ready stream.
-- KEYS[1]  the queue's ready stream
-- ARGV[1]  the job id
-- ARGV[2…] task sequence numbers
-- Reply:   the number of entries appended
-- Appending a task twice is harmless: a claim is a compare-and-set in PostgreSQL, so a duplicate entry
-- finds the task taken or finished and is acknowledged without running it.
for i = 2, #ARGV do
  redis.call('XADD', KEYS[1], '*', 'j', ARGV[1], 's', ARGV[i])
end
return #ARGV - 1
