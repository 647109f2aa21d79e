/**
 * The handshake of the replication stream: the leader asks to switch a connection to the broker's
 * own port (HTTP or HTTPS alike) with `GET /replica/stream`, `Connection: Upgrade`,
 * `Upgrade: yak-replication/1`; a broker that speaks it answers 101 with its limits, one that
 * does not (an older version during a rolling upgrade) answers anything else and the leader keeps
 * posting frames to /replica/append instead.
 */
export const STREAM_PATH = '/replica/stream';
export const STREAM_PROTOCOL = 'yak-replication/1';
/** The follower's largest accepted message (meta and body), in the 101 answer. */
export const MAX_MESSAGE_HEADER = 'x-yak-max-message-bytes';
/** How many frames the follower reads before it waits for its own answers, in the 101 answer. */
export const MAX_IN_FLIGHT_HEADER = 'x-yak-max-in-flight';
/** Frames a follower works on at once per connection; further bytes stay unread (TCP pushes back). */
export const FOLLOWER_MAX_IN_FLIGHT = 16;
/** A stream with no frame for this long is closed by the follower (the leader heartbeats far more often). */
export const STREAM_IDLE_TIMEOUT_MS = 65_000;
