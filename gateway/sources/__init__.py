"""Event-source backends: an API fed by Redis Streams, NATS JetStream or MQTT instead of a
WebSocket server.

`open.open_source` turns a handshake into a `SourceLeg` (the backend leg the framed relay
drives); `feeds.SourceHub` holds one broker subscription per (process, broker, name), shared by
every connection that reads it; one module per broker speaks its protocol.
"""
