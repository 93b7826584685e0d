namespace Slimta.Plugins.Redis;

/// <summary>
/// The Lua scripts that make multi-key changes atomic. Every script takes the three shared keys
/// (new list, schedule, claims) as KEYS and builds message keys from the prefix in ARGV, so the
/// queue needs one Redis instance (not a cluster).
/// </summary>
internal static class RedisScripts
{
    /// <summary>
    /// Claim. KEYS: queue, schedule, claims. ARGV: now ms, lease expiry ms, worker, prefix.
    /// Order: claims whose lease expired (their worker is presumed dead), then retries that are
    /// due, then new messages (FIFO). Ids whose hash is gone (removed meanwhile) are dropped.
    /// </summary>
    public const string Claim = """
        local now = tonumber(ARGV[1])
        for i = 1, 50 do
          local id = false
          local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1)
          if expired[1] then
            id = expired[1]
          else
            local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1)
            if due[1] then
              id = due[1]
              redis.call('ZREM', KEYS[2], id)
            else
              id = redis.call('RPOP', KEYS[1])
            end
          end
          if not id then
            return false
          end
          local key = ARGV[4] .. id
          if redis.call('EXISTS', key) == 1 then
            redis.call('ZADD', KEYS[3], ARGV[2], id)
            redis.call('HSET', key, 'owner', ARGV[3])
            return id
          end
          redis.call('ZREM', KEYS[3], id)
        end
        return false
        """;

    /// <summary>Write. KEYS: queue, schedule, message. ARGV: id, due now (1/0), next ms, then field/value pairs.</summary>
    public const string Write = """
        if redis.call('EXISTS', KEYS[3]) == 1 then
          return redis.error_reply('message ' .. ARGV[1] .. ' is already stored')
        end
        redis.call('HSET', KEYS[3], unpack(ARGV, 4))
        if ARGV[2] == '1' then
          redis.call('LPUSH', KEYS[1], ARGV[1])
        else
          redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
        end
        return 1
        """;

    /// <summary>Renew. KEYS: claims, message. ARGV: worker, expiry ms, id. 1 when renewed.</summary>
    public const string Renew = """
        if redis.call('HGET', KEYS[2], 'owner') == ARGV[1] and redis.call('ZSCORE', KEYS[1], ARGV[3]) then
          redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
          return 1
        end
        return 0
        """;

    /// <summary>Release. KEYS: claims, message, schedule. ARGV: worker, now ms, id.</summary>
    public const string Release = """
        if redis.call('HGET', KEYS[2], 'owner') == ARGV[1] and redis.call('ZREM', KEYS[1], ARGV[3]) == 1 then
          redis.call('HDEL', KEYS[2], 'owner')
          redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
        end
        return 1
        """;

    /// <summary>Set next attempt and release any claim. KEYS: schedule, claims, message. ARGV: next ms, id. 0 when missing.</summary>
    public const string SetNext = """
        if redis.call('EXISTS', KEYS[3]) == 0 then
          return 0
        end
        redis.call('HSET', KEYS[3], 'next', ARGV[1])
        redis.call('HDEL', KEYS[3], 'owner')
        redis.call('ZREM', KEYS[2], ARGV[2])
        redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
        return 1
        """;

    /// <summary>Increment attempts. KEYS: message. Returns the new count, or -1 when missing.</summary>
    public const string Increment = """
        if redis.call('EXISTS', KEYS[1]) == 0 then
          return -1
        end
        return redis.call('HINCRBY', KEYS[1], 'attempts', 1)
        """;

    /// <summary>Mark delivered. KEYS: message. ARGV: field names d:&lt;index&gt;. 0 when missing.</summary>
    public const string Delivered = """
        if redis.call('EXISTS', KEYS[1]) == 0 then
          return 0
        end
        for i = 1, #ARGV do
          redis.call('HSET', KEYS[1], ARGV[i], '1')
        end
        return 1
        """;
}
