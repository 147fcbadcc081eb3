"""What a process tells the control plane about itself: heartbeat, live sessions, revocation."""
