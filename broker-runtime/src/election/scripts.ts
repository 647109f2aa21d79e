/**
 * Lua scripts: each decision that must be atomic in Redis is one script, so no other broker can
 * act between the check and the write.
 */

/**
 * Take the lease if nobody holds it and this broker may lead.
 * KEYS: leader, epoch, isr, frame-keys, cluster-uuid. ARGV: id, url, leaseMs, minEpoch, mode ('isr' |
 * 'recover' | 'unclean'), frameKey, maxEpoch, cluster identity ('' = none).
 * The first lease taken in a namespace names the cluster (SET NX), in the same step, so no broker
 * of another cluster can name it first (broker/cluster-identity.ts).
 * mode 'isr': only a member of the recorded in-sync set; 'recover': also when no in-sync set is
 * recorded (fresh cluster, or Redis restarted empty); 'unclean': anyone.
 * The new epoch is above both Redis's counter and minEpoch (the highest the broker has seen), so
 * epochs keep growing even when Redis lost its data.
 * A counter outside 0..maxEpoch (left by a forged frame before frames were authenticated) is
 * ignored rather than obeyed: the epoch then follows from minEpoch, which the broker derives from
 * its logs and every candidate's. The new leadership's frame key is stored under its epoch in the
 * same step (only the newest 8 are kept), so no frame of this epoch can be verified before it exists.
 * Returns {epoch, leaseValue, inSyncSetJson} — the in-sync set read in the same atomic step, so a
 * new leader never needs a second round trip that could fail after it already holds the lease —
 * or {0, reason}.
 */
export const ACQUIRE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  -- Every broker sets the lease with an expiry (PX, renewed with PEXPIRE): one without was set by
  -- hand or by another program, and would hold the cluster leaderless for good.
  if redis.call('PTTL', KEYS[1]) ~= -1 then return {0, 'held'} end
  redis.call('DEL', KEYS[1])
end
local isr = redis.call('GET', KEYS[3])
-- An in-sync set no broker wrote (not JSON, members not a list) reads as none, as lease-store.ts
-- reads it: a Lua error here would refuse every broker's every attempt, leaving the cluster leaderless.
local doc = nil
if isr then
  local ok, d = pcall(cjson.decode, isr)
  if ok and type(d) == 'table' and type(d.members) == 'table' then doc = d else isr = false end
end
local mode = ARGV[5]
if mode ~= 'unclean' then
  if isr then
    local member = false
    for _, m in ipairs(doc.members) do if m == ARGV[1] then member = true end end
    if not member then return {0, 'not-in-sync'} end
  elseif mode ~= 'recover' then
    return {0, 'no-isr'}
  end
end
local maxEpoch = tonumber(ARGV[7])
local e = tonumber(redis.call('GET', KEYS[2]) or '0')
if (not e) or e < 0 or e > maxEpoch or e ~= math.floor(e) then e = 0 end
local minEpoch = tonumber(ARGV[4])
if minEpoch > e then e = minEpoch end
if e >= maxEpoch then return {0, 'epochs-exhausted'} end
e = e + 1
redis.call('SET', KEYS[2], e)
redis.call('HSET', KEYS[4], e, ARGV[6])
for _, f in ipairs(redis.call('HKEYS', KEYS[4])) do
  local n = tonumber(f)
  if (not n) or n <= e - 8 or n > e then redis.call('HDEL', KEYS[4], f) end
end
if ARGV[8] and ARGV[8] ~= '' then redis.call('SET', KEYS[5], ARGV[8], 'NX') end
local value = cjson.encode({id = ARGV[1], url = ARGV[2], epoch = e})
redis.call('SET', KEYS[1], value, 'PX', ARGV[3])
if (not isr) or mode == 'unclean' then
  local members = {ARGV[1]}
  if isr and mode == 'unclean' then
    for _, m in ipairs(doc.members) do if m ~= ARGV[1] and type(m) == 'string' then table.insert(members, m) end end
  end
  redis.call('SET', KEYS[3], cjson.encode({epoch = e, members = members}))
end
return {e, value, redis.call('GET', KEYS[3])}
`;

/** Extend the lease if it is still ours. KEYS: leader. ARGV: leaseValue, leaseMs. Returns 1 or 0. */
export const RENEW_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/** Give the lease up at once (clean shutdown). KEYS: leader, events. ARGV: leaseValue. */
export const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', KEYS[2], 'released')
  return 1
end
return 0
`;

/**
 * Write a key only while holding the lease: how the leader records the in-sync set, so a deposed
 * leader can never shrink it. KEYS: leader, target. ARGV: leaseValue, value. Returns 1 or 0.
 */
export const FENCED_SET_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1
`;

/** HSET field/value pairs only while holding the lease. KEYS: leader, hash. ARGV: leaseValue, f1, v1, ... */
export const FENCED_HSET_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
`;

/**
 * A producer id block for idempotent Kafka producers (kafka/idempotence/producer-ids.ts), on any
 * broker: the epoch of the lease held now and the next number counted within it. The counter
 * restarts at 0 when the lease's epoch moves on; epochs only grow while Redis keeps its data, and
 * after it lost them the election raises the epoch above every one a broker has seen, so no
 * (epoch, n) pair is handed out twice.
 * KEYS: leader, producer ids hash {epoch, next}. Returns {epoch, n}, or {0, reason} when no lease is held.
 */
export const PRODUCER_ID_LUA = `
local lease = redis.call('GET', KEYS[1])
if not lease then return {0, 'no broker holds the leader lease'} end
local ok, holder = pcall(cjson.decode, lease)
local epoch = ok and type(holder) == 'table' and tonumber(holder.epoch)
if not epoch then return {0, 'the leader lease in Redis is not one a broker wrote (not JSON with an epoch)'} end
local counted = tonumber(redis.call('HGET', KEYS[2], 'epoch') or '-1')
if counted > epoch then return {0, 'producer ids were counted at a newer epoch than the lease'} end
if counted < epoch then redis.call('HSET', KEYS[2], 'epoch', epoch, 'next', 0) end
return {epoch, redis.call('HINCRBY', KEYS[2], 'next', 1) - 1}
`;

/**
 * Keep what a candidacy states about the past for as long as this Redis keeps its data: the highest
 * epoch (a max) and the newest in-sync set (by epoch, then version). Candidacies expire with their
 * broker's registration, and a broker whose Redis link stalls after stating its candidacy (the
 * answers held up in one TCP connection) stops renewing it: without this, a broker with an empty
 * disk that waited out the recovery wait saw nobody's history and led epoch 1 again (sim seed 111).
 * Nothing lowers either field, so a broker restarted with a wiped disk under the same id cannot
 * take back what it stated before.
 * KEYS: stated-history hash. ARGV: highest epoch, in-sync set JSON {epoch, members, version} or ''.
 */
export const STATE_HISTORY_LUA = `
local e = tonumber(ARGV[1])
local cur = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0') or 0
if e and e > cur then redis.call('HSET', KEYS[1], 'epoch', e) end
if ARGV[2] ~= '' then
  local new = cjson.decode(ARGV[2])
  local raw = redis.call('HGET', KEYS[1], 'isr')
  local newer = true
  if raw then
    -- A stored set no broker wrote (not JSON, no numbers) is replaced, not an error on every registration.
    local ok, old = pcall(cjson.decode, raw)
    if ok and type(old) == 'table' and type(old.epoch) == 'number' and type(old.version) == 'number' then
      if old.epoch > new.epoch or (old.epoch == new.epoch and old.version >= new.version) then newer = false end
    end
  end
  if newer then redis.call('HSET', KEYS[1], 'isr', ARGV[2]) end
end
return 1
`;
